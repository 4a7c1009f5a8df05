// Package audit makes Tresor's audit trail tamper-evident. Entries form a
// hash chain (each link hashes the previous link and the entry) and the
// leaves of an RFC 6962 Merkle tree; checkpoints of the tree's size, root and
// chain are signed with an Ed25519 key that lives outside the database.
// Verification recomputes everything and names the first inconsistency.
//
// The package is pure: it encodes, hashes, signs and checks; the gate stores.
package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"strings"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"tresor"
)

// HashSize is the size of every hash.
const HashSize = sha256.Size

// Genesis is the chain link before the first entry.
var Genesis = make([]byte, HashSize)

var hasher = rfc6962.DefaultHasher

var factory = &compact.RangeFactory{Hash: hasher.HashChildren}

// Encode is an entry's canonical form: every field, length-prefixed, in a
// fixed order, so that no two entries encode alike. The chain hash is not
// part of it.
func Encode(e *tresor.AuditEntry) []byte { return AppendEncode(make([]byte, 0, 256), e) }

// AppendEncode appends the canonical form of e to b.
func AppendEncode(b []byte, e *tresor.AuditEntry) []byte {
	b = append(b, 1) // the format of the encoding
	b = binary.BigEndian.AppendUint64(b, uint64(e.Seq))
	b = binary.BigEndian.AppendUint64(b, uint64(e.At.UnixMicro()))
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	str(e.Actor)
	str(e.Roles)
	str(e.Purpose)
	str(e.Action)
	str(e.ObjectType)
	b = binary.AppendUvarint(b, uint64(len(e.ObjectIDs)))
	for _, id := range e.ObjectIDs {
		str(id)
	}
	b = binary.AppendUvarint(b, uint64(len(e.Categories)))
	for _, c := range e.Categories {
		str(string(c))
	}
	str(string(e.Decision))
	str(e.Reason)
	str(e.RequestID)
	str(e.Client)
	str(e.Detail)
	return b
}

// LeafHash is the entry's leaf in the Merkle tree (RFC 6962: SHA-256 of 0x00
// and the canonical form).
func LeafHash(e *tresor.AuditEntry) []byte { return hasher.HashLeaf(Encode(e)) }

// hashState hashes leaves and links with one reusable SHA-256 state and
// buffer: verifying a million entries should not allocate a million times.
type hashState struct {
	h   hash.Hash
	buf []byte
}

func newHashState() *hashState { return &hashState{h: sha256.New(), buf: make([]byte, 0, 512)} }

func (s *hashState) leaf(e *tresor.AuditEntry) []byte {
	s.buf = append(s.buf[:0], rfc6962.RFC6962LeafHashPrefix)
	s.buf = AppendEncode(s.buf, e)
	s.h.Reset()
	s.h.Write(s.buf)
	return s.h.Sum(nil)
}

func (s *hashState) link(prev, leaf []byte) []byte {
	s.h.Reset()
	s.h.Write(prev)
	s.h.Write(leaf)
	return s.h.Sum(nil)
}

// Link is the chain link of an entry: SHA-256 of the previous link and the
// entry's leaf hash.
func Link(prev, leaf []byte) []byte {
	h := sha256.New()
	h.Write(prev)
	h.Write(leaf)
	return h.Sum(nil)
}

// Chain sets Seq and Hash of entries appended after the link prev at seq
// head, and returns their leaf hashes.
func Chain(head int64, prev []byte, entries []*tresor.AuditEntry) [][]byte {
	leaves := make([][]byte, len(entries))
	for i, e := range entries {
		e.Seq = head + int64(i) + 1
		leaves[i] = LeafHash(e)
		e.Hash = Link(prev, leaves[i])
		prev = e.Hash
	}
	return leaves
}

// Tree is the Merkle tree's compact range: O(log n) hashes from which the
// root of the whole tree follows, extendable entry by entry.
type Tree struct{ r *compact.Range }

// NewTree returns the tree of an empty trail.
func NewTree() *Tree { return &Tree{factory.NewEmptyRange(0)} }

// Append adds a leaf hash.
func (t *Tree) Append(leaf []byte) {
	if err := t.r.Append(leaf, nil); err != nil {
		panic(err) // only an invalid range can fail, and t's is always valid
	}
}

// Size is the number of leaves.
func (t *Tree) Size() int64 { return int64(t.r.End()) }

// Root is the tree's RFC 6962 root hash.
func (t *Tree) Root() []byte {
	if t.r.End() == 0 {
		return hasher.EmptyRoot()
	}
	root, err := t.r.GetRootHash(nil)
	if err != nil {
		panic(err)
	}
	return root
}

// Marshal encodes the compact range: the size, then its hashes.
func (t *Tree) Marshal() []byte {
	b := binary.BigEndian.AppendUint64(nil, t.r.End())
	for _, h := range t.r.Hashes() {
		b = append(b, h...)
	}
	return b
}

// UnmarshalTree decodes a compact range written by Marshal.
func UnmarshalTree(b []byte) (*Tree, error) {
	if len(b) < 8 || (len(b)-8)%HashSize != 0 {
		return nil, errors.New("audit: a damaged compact range")
	}
	end := binary.BigEndian.Uint64(b)
	var hashes [][]byte
	for rest := b[8:]; len(rest) > 0; rest = rest[HashSize:] {
		hashes = append(hashes, bytes.Clone(rest[:HashSize]))
	}
	r, err := factory.NewRange(0, end, hashes)
	if err != nil {
		return nil, fmt.Errorf("audit: a damaged compact range: %w", err)
	}
	return &Tree{r}, nil
}

// InclusionProof returns the RFC 6962 inclusion proof of the leaf at index
// (0-based) in the tree of the first size leaves.
func InclusionProof(leaves [][]byte, index, size uint64) ([][]byte, error) {
	if index >= size || size > uint64(len(leaves)) {
		return nil, fmt.Errorf("audit: no leaf %d in a tree of %d", index, size)
	}
	nodes, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, err
	}
	hashes := make([][]byte, len(nodes.IDs))
	for i, id := range nodes.IDs {
		begin := id.Index << id.Level
		end := min((id.Index+1)<<id.Level, size)
		hashes[i] = subtree(leaves[begin:end])
	}
	return nodes.Rehash(hashes, hasher.HashChildren)
}

// subtree is the RFC 6962 hash of a run of leaves (MTH).
func subtree(leaves [][]byte) []byte {
	if len(leaves) == 1 {
		return leaves[0]
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	return hasher.HashChildren(subtree(leaves[:k]), subtree(leaves[k:]))
}

// VerifyInclusion checks an inclusion proof against a root.
func VerifyInclusion(leaf []byte, index, size uint64, p [][]byte, root []byte) error {
	return proof.VerifyInclusion(hasher, index, size, leaf, p, root)
}

// JoinIDs and SplitIDs store a list of ids in one column.
func JoinIDs(ids []string) string { return strings.Join(ids, ",") }

// SplitIDs reverses JoinIDs.
func SplitIDs(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
