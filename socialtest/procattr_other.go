//go:build !linux

package socialtest

import "os/exec"

func setProcAttr(*exec.Cmd) {}
