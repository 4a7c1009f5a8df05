package server

import (
	"context"
	"time"

	"tresor"
)

// The fakes answer the exports for requests of access like the gate would:
// only under data_protection; one link, "good-token", that works.

func (f *fakeServices) BuildSubjectExport(ctx context.Context, id string, _ tresor.SubjectExportFormat) ([]byte, error) {
	if err := dataProtectionOnly(ctx); err != nil {
		return nil, err
	}
	return []byte(`{"schema":"tresor.subject-export/v1"}`), nil
}

func (f *fakeServices) SendSubjectExport(ctx context.Context, id string) (*tresor.SubjectExportSent, error) {
	if err := dataProtectionOnly(ctx); err != nil {
		return nil, err
	}
	if id != testID {
		return nil, tresor.Errorf(tresor.ECNotFound, "No request %s.", id)
	}
	return &tresor.SubjectExportSent{RequestID: id, ExpiresAt: time.Date(2026, 3, 16, 9, 0, 0, 0, time.UTC)}, nil
}

func (f *fakeServices) SubjectExportLink(ctx context.Context, token string) (*tresor.SubjectExportLink, error) {
	if token != "good-token" {
		return nil, tresor.Errorf(tresor.ECLinkInvalid, "This download link is not valid.")
	}
	return &tresor.SubjectExportLink{ExpiresAt: time.Date(2026, 3, 16, 9, 0, 0, 0, time.UTC), Language: "de"}, nil
}

func (f *fakeServices) DownloadSubjectExport(ctx context.Context, token string) (*tresor.SubjectExportFile, error) {
	if token != "good-token" {
		return nil, tresor.Errorf(tresor.ECLinkInvalid, "This download link is not valid.")
	}
	return &tresor.SubjectExportFile{Name: "tresor-export.zip", Data: []byte("PK")}, nil
}

func (f *fakeServices) PurgeSubjectExports(context.Context) (int, error) { return 0, nil }
