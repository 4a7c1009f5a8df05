//go:build !unix

package datadir

// Lock is not implemented on this system: a restore cannot tell whether a
// server runs, so stop it first.
func Lock(cfg Config) (release func(), err error) { return func() {}, nil }

// lockSealKeys is not implemented on this system: run one backup or prune
// at a time.
func lockSealKeys(cfg Config) (release func(), err error) { return func() {}, nil }
