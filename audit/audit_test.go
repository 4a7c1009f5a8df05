package audit

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"tresor"
)

func entries(n int) []*tresor.AuditEntry {
	out := make([]*tresor.AuditEntry, n)
	at := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	for i := range out {
		out[i] = &tresor.AuditEntry{At: at.Add(time.Duration(i) * time.Second), Actor: "user:u1", Roles: "sales", Purpose: "sales",
			Action: "contact.read", ObjectType: "contact", ObjectIDs: []string{fmt.Sprintf("c%d", i)}, Decision: tresor.Allowed}
	}
	Chain(0, Genesis, out)
	return out
}

// TestEncodingIsUnambiguous: moving a separator between fields changes the encoding.
func TestEncodingIsUnambiguous(t *testing.T) {
	a := &tresor.AuditEntry{Actor: "ab", Roles: "c"}
	b := &tresor.AuditEntry{Actor: "a", Roles: "bc"}
	c := &tresor.AuditEntry{ObjectIDs: []string{"a,b"}}
	d := &tresor.AuditEntry{ObjectIDs: []string{"a", "b"}}
	if bytes.Equal(Encode(a), Encode(b)) || bytes.Equal(Encode(c), Encode(d)) {
		t.Fatal("two different entries encode alike")
	}
}

// TestTreeAndProofs: the compact range's root equals the root every
// inclusion proof leads to, for every leaf of trees of many sizes; a range
// survives marshalling.
func TestTreeAndProofs(t *testing.T) {
	es := entries(40)
	leaves := make([][]byte, len(es))
	for i, e := range es {
		leaves[i] = LeafHash(e)
	}
	for size := 1; size <= len(leaves); size++ {
		tr := NewTree()
		for _, l := range leaves[:size] {
			tr.Append(l)
		}
		root := tr.Root()
		for i := 0; i < size; i++ {
			p, err := InclusionProof(leaves, uint64(i), uint64(size))
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyInclusion(leaves[i], uint64(i), uint64(size), p, root); err != nil {
				t.Fatalf("leaf %d of %d: %v", i, size, err)
			}
			if i > 0 && VerifyInclusion(leaves[i-1], uint64(i), uint64(size), p, root) == nil {
				t.Fatalf("the proof of leaf %d accepts another leaf", i)
			}
		}
		back, err := UnmarshalTree(tr.Marshal())
		if err != nil || !bytes.Equal(back.Root(), root) {
			t.Fatalf("a range of %d did not survive marshalling: %v", size, err)
		}
	}
}

func verify(t *testing.T, s *Signer, es []*tresor.AuditEntry, cps []tresor.AuditCheckpoint) error {
	t.Helper()
	v, err := NewVerifier(s.Public(), nil, cps)
	if err != nil {
		return err
	}
	for _, e := range es {
		if err := v.Add(e); err != nil {
			return err
		}
	}
	return v.Finish()
}

// TestVerifierNamesTheFirstInconsistency: every way of tampering is found
// and the message names the entry.
func TestVerifierNamesTheFirstInconsistency(t *testing.T) {
	s := NewSigner()
	es := entries(10)
	tr := NewTree()
	for _, e := range es {
		tr.Append(LeafHash(e))
	}
	cp := *s.Sign(tr, es[9].Hash, time.Now())
	if err := verify(t, s, es, []tresor.AuditCheckpoint{cp}); err != nil {
		t.Fatalf("an intact trail: %v", err)
	}
	clone := func() []*tresor.AuditEntry {
		out := make([]*tresor.AuditEntry, len(es))
		for i, e := range es {
			c := *e
			out[i] = &c
		}
		return out
	}
	rechain := func(x []*tresor.AuditEntry) []*tresor.AuditEntry { Chain(0, Genesis, x); return x }
	for _, tc := range []struct {
		name   string
		trail  func() []*tresor.AuditEntry
		want   string
		signed bool // the tamperer also recomputed the chain: only the checkpoint finds it
	}{
		{"modified", func() []*tresor.AuditEntry { x := clone(); x[4].Purpose = "marketing"; return x }, "entry 5 does not match", false},
		{"deleted", func() []*tresor.AuditEntry { x := clone(); return append(x[:3], x[4:]...) }, "entry 4 is missing", false},
		{"inserted", func() []*tresor.AuditEntry {
			x := clone()
			extra := *x[2]
			return append(x[:3], append([]*tresor.AuditEntry{&extra}, x[3:]...)...)
		}, "entry 3 appears again", false},
		{"swapped", func() []*tresor.AuditEntry {
			x := clone()
			x[5].ObjectIDs, x[6].ObjectIDs = x[6].ObjectIDs, x[5].ObjectIDs
			return x
		}, "entry 6 does not match", false},
		{"truncated", func() []*tresor.AuditEntry { return clone()[:7] }, "entries 8 to 10 were deleted", false},
		{"modified and rechained", func() []*tresor.AuditEntry { x := clone(); x[1].Actor = "user:u2"; return rechain(x) }, "checkpoint at size 10 does not match", true},
		{"deleted and rechained", func() []*tresor.AuditEntry { x := clone(); x = append(x[:1], x[2:]...); return rechain(x) }, "trail ends at entry 9", true},
	} {
		err := verify(t, s, tc.trail(), []tresor.AuditCheckpoint{cp})
		var p *Problem
		if !errors.As(err, &p) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	forged := cp
	forged.Size = 9
	if err := verify(t, s, es, []tresor.AuditCheckpoint{forged}); err == nil || !strings.Contains(err.Error(), "signature") {
		t.Fatalf("a forged checkpoint: %v", err)
	}
	other := NewSigner()
	if err := verify(t, other, es, []tresor.AuditCheckpoint{cp}); err == nil {
		t.Fatal("a checkpoint verified with another key")
	}
}
