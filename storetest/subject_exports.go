package storetest

import (
	"bytes"
	"testing"
	"time"

	"tresor"
)

// subjectExportTests are the store's part of the exports that answer
// requests of access.
var subjectExportTests = []struct {
	name string
	fn   func(*testing.T, tresor.Store)
}{
	{"SubjectExportsByTokenWithTheirKeyListExpiredAndDelete", testSubjectExports},
}

func subjectExportRow(token string, expires time.Time) *tresor.SubjectExportRow {
	id := newID()
	return &tresor.SubjectExportRow{ID: id, RequestID: newID(), TokenHash: []byte("hash of " + token), Language: "de",
		CreatedAt: epoch, ExpiresAt: expires, Sealed: []byte("sealed zip " + token),
		Sealing: tresor.Sealing{Key: &tresor.WrappedKey{Subject: id, Version: 1, KEKVersion: 1, Wrapped: []byte("wrapped " + token)}, KeyIsNew: true}}
}

func testSubjectExports(t *testing.T, s tresor.Store) {
	soon, late := subjectExportRow("soon", epoch.Add(time.Hour)), subjectExportRow("late", epoch.Add(48*time.Hour))
	update(t, s, func(tx tresor.Tx) error {
		if err := tx.InsertSubjectExport(ctx, soon); err != nil {
			return err
		}
		return tx.InsertSubjectExport(ctx, late)
	})
	got, err := s.Read().SubjectExportByToken(ctx, []byte("hash of soon"))
	must(t, err)
	if got.ID != soon.ID || got.RequestID != soon.RequestID || got.Language != "de" || !got.ExpiresAt.Equal(soon.ExpiresAt) ||
		!bytes.Equal(got.Sealed, soon.Sealed) || got.Key == nil || !bytes.Equal(got.Key.Wrapped, []byte("wrapped soon")) {
		t.Fatalf("read back = %+v", got)
	}
	_, err = s.Read().SubjectExportByToken(ctx, []byte("hash of nothing"))
	wantCode(t, err, tresor.ECNotFound)

	expired, err := s.Read().SubjectExportsBefore(ctx, epoch.Add(2*time.Hour))
	must(t, err)
	if len(expired) != 1 || expired[0].ID != soon.ID || len(expired[0].Sealed) != 0 || expired[0].Key == nil {
		t.Fatalf("expired = %+v", expired)
	}

	var gone, again bool
	update(t, s, func(tx tresor.Tx) error {
		var err error
		if gone, err = tx.DeleteSubjectExport(ctx, soon.ID); err != nil {
			return err
		}
		again, err = tx.DeleteSubjectExport(ctx, soon.ID)
		return err
	})
	if !gone || again {
		t.Fatalf("delete reported %v, then %v", gone, again)
	}
	_, err = s.Read().SubjectExportByToken(ctx, []byte("hash of soon"))
	wantCode(t, err, tresor.ECNotFound)
	if _, err := s.Read().SubjectExportByToken(ctx, []byte("hash of late")); err != nil {
		t.Fatalf("the other export: %v", err)
	}
}
