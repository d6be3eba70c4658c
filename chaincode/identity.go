package main

import (
	"fmt"
	"slices"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
)

// adminOU is the OU that NodeOUs put in an admin's certificate.
const adminOU = "admin"

// adminAttribute marks an admin in a Fabric CA enrolment certificate.
const adminAttribute = "cocoa.admin"

// caller is the client identity of the transaction.
type caller struct {
	msp   string
	org   string // "" when the MSP id has no registered organisation
	admin bool
}

func callerOf(ctx contractapi.TransactionContextInterface, l *ledger) (*caller, error) {
	id := ctx.GetClientIdentity()
	if id == nil {
		return nil, fmt.Errorf("the client identity cannot be read")
	}
	msp, err := id.GetMSPID()
	if err != nil {
		return nil, fmt.Errorf("read the client MSP id: %w", err)
	}

	c := &caller{msp: msp}
	var index MSPIndex
	if ok, err := l.get(mspKey(msp), &index); err != nil {
		return nil, err
	} else if ok {
		c.org = index.Slug
	}

	if value, found, err := id.GetAttributeValue(adminAttribute); err == nil && found && value == "true" {
		c.admin = true
	}
	if cert, err := id.GetX509Certificate(); err == nil && cert != nil {
		c.admin = c.admin || slices.Contains(cert.Subject.OrganizationalUnit, adminOU)
	}
	return c, nil
}

// requireAdmin refuses unless the caller is an admin of the registered org.
func requireAdmin(l *ledger, c *caller, org string) (*Org, error) {
	var o Org
	ok, err := l.get(orgKey(org), &o)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, refuse("unknown-asset", "organisation %s is not registered", org)
	}
	if !c.admin || c.msp != o.MSP {
		return nil, refuse("not-admin", "the caller is not an admin of %s", org)
	}
	return &o, nil
}

func orgKey(slug string) string    { return "org/" + slug }
func mspKey(msp string) string     { return "msp/" + msp }
func inboxKey(slug string) string  { return "inbox/" + slug }
func deviceKey(id string) string   { return "device/" + id }
func recordKey(id string) string   { return "record/" + id }
func purchaseKey(id string) string { return "purchase/" + id }
func lotKey(id string) string      { return "lot/" + id }
func batchKey(id string) string    { return "batch/" + id }
func shipmentKey(id string) string { return "shipment/" + id }
