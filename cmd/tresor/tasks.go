package main

import (
	"fmt"
	"strconv"

	// The time zone of the working day (--time-zone) must load on a machine
	// without a zoneinfo database too.
	_ "time/tzdata"
)

// envInt reads a whole number from the environment, or returns def.
func (m *Main) envInt(key string, def int) int {
	if v := m.Getenv(key); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
		fmt.Fprintf(m.Stderr, "tresor: %s=%q is not a whole number; using %d\n", key, v, def)
	}
	return def
}
