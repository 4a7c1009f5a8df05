// Command tresor-load drives a running `tresor serve` over its HTTP API the
// way people meet it: N clients on kept-alive connections, each sending a
// mix of routes with a bearer token and a declared purpose. For every client
// count it first measures /healthz alone with the same clients — the
// comparison in the same run — and then the mix, and reports per route the
// successful requests per second, p50/p90/p99/max latency of the successes
// and the errors by status and problem code.
//
//	TRESOR_LOAD_TOKEN=$(tresor token create --email you@example.org) \
//	  tresor-load --url http://127.0.0.1:8080 --purpose sales --clients 16,64 \
//	    --duration 20s --mix get=8,list=1,search=1,write=0 --json load.json
//
// The mix may also record consent events (consent=W), and --import sends
// one file to POST /api/v1/imports beside the clients, as a soak asks;
// --acked FILE keeps every acknowledged write for a fault test to look for
// after a crash.
//
// A 5xx answer or a failed request makes the exit status 1, so a soak run
// fails loudly; usage errors exit 2.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(exitCode(os.Stderr, err))
}

// errUsage marks an error in the arguments (exit status 2).
var errUsage = errors.New("usage")

func exitCode(stderr io.Writer, err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintln(stderr, "tresor-load:", err)
		return 2
	default:
		fmt.Fprintln(stderr, "tresor-load:", err)
		return 1
	}
}
