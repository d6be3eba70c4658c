package main

import "fmt"

// CodeError is a refusal with one of the stable codes of README.md.
type CodeError struct {
	Code   string
	Detail string
}

func (e *CodeError) Error() string {
	return e.Code + ": " + e.Detail
}

func refuse(code, format string, args ...any) *CodeError {
	return &CodeError{Code: code, Detail: fmt.Sprintf(format, args...)}
}
