package gate

import (
	"context"
	"time"

	"tresor"
	"tresor/policy"
)

// Hand-entered data (issue [2.4] §4): text typed into notes, interactions,
// cases and contact fields is screened for special categories (Art. 9 GDPR)
// as imports and the social inbox screen theirs, and a contact told by a
// third party gets the Art. 14 notice duty an import gives.

// typed is one free-text field of a write: its JSON name, the text sent
// and the text stored before (equal on an update that leaves it alone).
type typed struct {
	field, text, was string
	employer         bool // an employer's name: working at a clinic reveals nothing of one's health
}

// screenTyped refuses a write whose new or changed text reveals a special
// category, unless the purpose allows it under an Art. 9(2) exception the
// write confirms (coll.Art9Exception). Unchanged text is not screened
// again: a change of a status does not trip over an old note.
func screenTyped(req *request, coll *tresor.Collection, fs ...typed) error {
	for _, f := range fs {
		if f.text == f.was {
			continue
		}
		cat, ok := policy.SpecialCategory(f.text)
		if !ok || (f.employer && cat == tresor.CatHealth) {
			continue
		}
		if err := policy.ScreenText(req.pu, f.field, f.text, coll.Art9Exception); err != nil {
			return err
		}
	}
	return nil
}

// screenNever refuses a write whose new or changed text, in fields that
// never hold a special category (no Art. 9(2) exception applies to them),
// reveals one.
func screenNever(fs ...typed) error {
	for _, f := range fs {
		if f.text == f.was {
			continue
		}
		if err := policy.ScreenNever(f.field, f.text); err != nil {
			return err
		}
	}
	return nil
}

// thirdPartyNotices records the Art. 14 information duty of new contacts
// entered by hand from what someone other than the person told (source
// third_party), as an import records it for its rows: same table, same
// period, for the purpose they were collected for. The duty starts at
// (zero: when the contact was created).
func thirdPartyNotices(ctx context.Context, tx tresor.Tx, cs []*tresor.Contact, at time.Time) error {
	var ns []*tresor.Notice
	for _, c := range cs {
		if c.Collection.Source != tresor.SourceThirdParty {
			continue
		}
		records, err := c.Provenance.Records()
		if err != nil {
			return err
		}
		last := latestRecord(records)
		from := at
		if from.IsZero() {
			from = c.CreatedAt
		}
		ns = append(ns, &tresor.Notice{ID: newID(), ContactID: c.ID, Source: string(tresor.SourceThirdParty),
			Purpose: last.Purpose, CreatedAt: from, DueAt: from.Add(noticePeriod)})
	}
	if len(ns) == 0 {
		return nil
	}
	return tx.InsertNotices(ctx, ns)
}

// latestRecord is the newest provenance record.
func latestRecord(prov []tresor.ProvenanceRecord) tresor.ProvenanceRecord {
	var last tresor.ProvenanceRecord
	for _, r := range prov {
		if !r.CollectedAt.Before(last.CollectedAt) {
			last = r
		}
	}
	return last
}

func init() {
	sourceNames[string(tresor.SourceThirdParty)] = [2]string{"Angaben Dritter, etwa von Geschäftspartnern oder Kollegen",
		"information from a third party, such as a business partner or a colleague"}
}
