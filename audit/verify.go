package audit

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"slices"

	"tresor"
)

// Problem is the first inconsistency verification found.
type Problem struct {
	Seq int64 // the entry (or checkpoint size) it concerns
	Msg string
}

func (p *Problem) Error() string { return p.Msg }

// Verifier checks a trail entry by entry, in the order of Seq.
type Verifier struct {
	pub         ed25519.PublicKey
	tree        *Tree
	prev        []byte
	next        int64
	checkpoints []tresor.AuditCheckpoint // ascending by size, not yet reached
	// Checked counts the checkpoints that matched.
	Checked int
	// Entries counts the entries seen.
	Entries int64
	hs      *hashState
}

// NewVerifier starts at the beginning of the trail, or after a prune. The
// checkpoints (from the database and from any second location) are checked
// when the trail reaches their size; their signatures are checked at once.
func NewVerifier(pub ed25519.PublicKey, prune *tresor.AuditPrune, checkpoints []tresor.AuditCheckpoint) (*Verifier, error) {
	v := &Verifier{pub: pub, tree: NewTree(), prev: Genesis, next: 1, hs: newHashState()}
	if prune != nil {
		t, err := UnmarshalTree(prune.Range)
		if err != nil {
			return nil, err
		}
		if t.Size() != prune.Upto {
			return nil, &Problem{prune.Upto, fmt.Sprintf("the record of the pruning up to entry %d is damaged", prune.Upto)}
		}
		v.tree, v.prev, v.next = t, prune.Chain, prune.Upto+1
	}
	cs := slices.Clone(checkpoints)
	slices.SortFunc(cs, func(a, b tresor.AuditCheckpoint) int { return int(a.Size - b.Size) })
	for _, c := range cs {
		if err := VerifyCheckpoint(pub, &c); err != nil {
			return nil, &Problem{c.Size, err.Error() + ": it was forged or changed"}
		}
		if prune != nil && c.Size < prune.Upto {
			continue // before the pruned part: nothing left to compare
		}
		if prune != nil && c.Size == prune.Upto {
			if !bytes.Equal(c.Chain, prune.Chain) || !bytes.Equal(c.Root, v.tree.Root()) {
				return nil, &Problem{c.Size, fmt.Sprintf("the pruning up to entry %d does not match the checkpoint at that size", c.Size)}
			}
			v.Checked++
			continue
		}
		v.checkpoints = append(v.checkpoints, c)
	}
	return v, nil
}

// Add checks the next entry.
func (v *Verifier) Add(e *tresor.AuditEntry) error {
	switch {
	case e.Seq > v.next:
		return &Problem{v.next, fmt.Sprintf("entry %d is missing: the trail goes from entry %d to entry %d (deleted)", v.next, v.next-1, e.Seq)}
	case e.Seq < v.next:
		return &Problem{e.Seq, fmt.Sprintf("entry %d appears again after entry %d (inserted or reordered)", e.Seq, v.next-1)}
	}
	leaf := v.hs.leaf(e)
	if !bytes.Equal(v.hs.link(v.prev, leaf), e.Hash) {
		return &Problem{e.Seq, fmt.Sprintf("entry %d does not match its link in the hash chain: it was changed, or entries were inserted or reordered before it", e.Seq)}
	}
	v.tree.Append(leaf)
	v.prev, v.next = e.Hash, v.next+1
	v.Entries++
	for len(v.checkpoints) > 0 && v.checkpoints[0].Size == e.Seq {
		c := v.checkpoints[0]
		v.checkpoints = v.checkpoints[1:]
		if !bytes.Equal(c.Root, v.tree.Root()) || !bytes.Equal(c.Chain, e.Hash) {
			return &Problem{c.Size, fmt.Sprintf("the signed checkpoint at size %d does not match entries 1 to %d: "+
				"an entry up to %d was changed, inserted or deleted and the chain recomputed", c.Size, c.Size, c.Size)}
		}
		v.Checked++
	}
	return nil
}

// Finish reports checkpoints beyond the end of the trail: its tail was cut.
func (v *Verifier) Finish() error {
	if len(v.checkpoints) > 0 {
		c := v.checkpoints[len(v.checkpoints)-1]
		return &Problem{v.next, fmt.Sprintf("the trail ends at entry %d, but a signed checkpoint covers %d entries: entries %d to %d were deleted (truncated)",
			v.next-1, c.Size, v.next, c.Size)}
	}
	return nil
}

// Head returns the size and chain link reached.
func (v *Verifier) Head() (int64, []byte) { return v.next - 1, v.prev }

// Tree returns the Merkle tree reached.
func (v *Verifier) Tree() *Tree { return v.tree }
