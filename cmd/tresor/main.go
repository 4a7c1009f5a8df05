package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"tresor"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain()
	stopProfile := cpuProfile(m.Stderr)
	err := m.Run(ctx, os.Args[1:])
	stopProfile()
	os.Exit(exitCode(m.Stderr, err))
}

// cpuProfile writes a pprof CPU profile of the whole command to the file
// TRESOR_CPUPROFILE names, if set: a developer's tool (go tool pprof), not
// a setting. The function it returns ends the profile.
func cpuProfile(stderr io.Writer) func() {
	name := os.Getenv("TRESOR_CPUPROFILE")
	if name == "" {
		return func() {}
	}
	f, err := os.Create(name)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(stderr, "tresor: CPU profile: %s\n", err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			fmt.Fprintf(stderr, "tresor: CPU profile: %s\n", err)
		}
	}
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
