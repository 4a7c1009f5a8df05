package server

import (
	"context"
	"io"
	"slices"
	"time"

	"tresor"
)

// exportFakeQuery is what the export of a list was asked, for
// TestOpenAPIListParameters.
type exportFakeQuery struct {
	Format                                tresor.ExportFormat
	Separator                             rune
	Query, OwnerID, OrganizationID, Email string
	UpdatedSince                          time.Time
}

// fakeTooLarge is the search for which the fakes' export is above the cap.
const fakeTooLarge = "everyone"

// ExportContacts answers like the gate: the declared purpose is checked, an
// unknown format refused, a selection naming erasedID or the search
// fakeTooLarge is above the cap, and marketing's file has no postal columns.
func (f *fakeServices) ExportContacts(ctx context.Context, req tresor.ExportRequest, w io.Writer) (*tresor.ExportResult, error) {
	if len(req.IDs) == 0 {
		fl := req.Filter
		f.filter = exportFakeQuery{Format: req.Format, Separator: req.Separator, Query: fl.Query, OwnerID: fl.OwnerID,
			OrganizationID: fl.OrganizationID, Email: fl.Email, UpdatedSince: fl.UpdatedSince}
	}
	pu, err := declaredPurpose(ctx)
	if err != nil {
		return nil, err
	}
	if req.Format == "" {
		req.Format = tresor.ExportCSV
	}
	if !slices.Contains(tresor.ExportFormats(), req.Format) {
		return nil, tresor.Errorf(tresor.ECInvalidParameter, "The format %q is unknown; the formats are csv and vcard.", req.Format)
	}
	if slices.Contains(req.IDs, erasedID) || req.Filter.Query == fakeTooLarge {
		return nil, &tresor.Error{Code: tresor.ECExportTooLarge, Message: "This export would hold more than 10000 contacts.",
			MessageDE: "Dieser Export enthielte mehr als 10000 Kontakte."}
	}
	res := &tresor.ExportResult{Format: req.Format, IDs: []string{testID}}
	if !pu.Allows(tresor.CatContactPostal) {
		res.Withheld = []tresor.Category{tresor.CatContactPostal}
	}
	for _, id := range req.IDs {
		if id != testID {
			res.Skipped++
		}
	}
	sep := string(req.Separator)
	if sep == "\x00" {
		sep = ","
	}
	body := "\ufeffid" + sep + "given_name" + sep + "family_name\n" + testID + sep + "Ada" + sep + "Lovelace\n"
	if req.Format == tresor.ExportVCard {
		body = "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:urn:uuid:" + testID + "\r\nFN:Ada Lovelace\r\nN:Lovelace;Ada;;;\r\nEND:VCARD\r\n"
	}
	_, err = io.WriteString(w, body)
	return res, err
}
