"""The Cocoa Trace hub: verifies and stores synced records, commits them to a ledger."""
