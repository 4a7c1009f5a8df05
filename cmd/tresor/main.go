package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"tresor"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain()
	err := m.Run(ctx, os.Args[1:])
	os.Exit(exitCode(m.Stderr, err))
}

// exitCode prints err as one line and returns the exit status: 0 for
// success, 2 for a usage error, 1 for anything else.
func exitCode(stderr io.Writer, err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	msg := err.Error()
	if e := tresor.AsError(err); e != nil {
		msg = e.Message
	}
	fmt.Fprintf(stderr, "tresor: %s\n", msg)
	return 1
}
