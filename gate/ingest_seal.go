package gate

import (
	"tresor"
)

// An import's rows are sealed while the file is read: every sealChunk
// admitted rows go to a goroutine that gives each its id and seals its
// fields under a new data key, as a generic create would, while the next
// rows are read and checked on the goroutine of the import. A batch is
// stored once it is full and all its rows are sealed, as before; what a
// row becomes in the store — its stamps, its owner, its provenance — is
// still set inside the transaction that stores it. A row the transaction
// finds a duplicate of a stored contact was sealed for nothing and is
// dropped with its key, which was never stored.

// sealChunk is how many admitted rows one sealing goroutine takes.
const sealChunk = 1000

// sealAhead hands the rows of the batch not handed yet to a goroutine
// that seals them: sealChunk of them, or however many there are if rest.
// A dry run seals nothing.
func (in *ingest) sealAhead(rest bool) {
	n := len(in.batch) - in.sealed
	if in.imp.DryRun || n == 0 || (!rest && n < sealChunk) {
		return
	}
	part := in.batch[in.sealed:]
	in.sealed = len(in.batch)
	in.sealing.Add(1)
	go func() {
		defer in.sealing.Done()
		for _, a := range part {
			a.seal(in.g)
		}
	}()
}

// seal gives the row its id and seals its fields under a new data key.
// An error is kept for store to return.
func (a *admitted) seal(g *Gate) {
	a.c.ID = newID()
	dk, w, err := g.newKey(a.c.ID)
	if err != nil {
		a.sealErr = err
		return
	}
	s := &sealer{dk: dk, key: w, new: true}
	a.sealed, a.sealing, a.sealErr = s.seal("contact", a.c.ID, &a.c.ContactDetails)
}

// contactRow is the contact row of a sealed row as it is now: what
// Gate.contactRow makes of a new contact, without sealing it again.
func (a *admitted) contactRow() (*tresor.ContactRow, error) {
	if a.sealErr != nil {
		return nil, a.sealErr
	}
	// The row claims its identifiers: see flush.
	row := &tresor.ContactRow{Contact: *a.c, Lookup: a.keys, Claim: true, Sealed: a.sealed, Sealing: a.sealing}
	row.ContactDetails, row.Withheld, row.Collection = tresor.ContactDetails{}, nil, tresor.Collection{}
	return row, nil
}
