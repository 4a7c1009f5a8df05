package server

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"tresor"
)

// The duplicates of the workspace (issue [2.3]): candidate pairs read
// through the gate under the session's purpose, each with a merge button
// that leads to a confirmation page; the merge itself is the gate's.

func (s *Server) mergePageRoutes() []route {
	return []route{
		{"GET", "/contacts/duplicates", AnyRole(contactRoles...), s.duplicatesPage},
		{"GET", "/contacts/duplicates/merge", AnyRole(contactRoles...), s.mergeConfirmPage},
		{"POST", "/contacts/{id}/merge", AnyRole(contactRoles...), s.mergeSubmit},
	}
}

// duplicatesData is what the list of candidates shows.
type duplicatesData struct {
	Refusal *shownRefusal
	Pairs   []duplicateRow
	Next    string
	Paged   bool
	Total   int
}

// duplicateRow is one candidate pair as the page shows it.
type duplicateRow struct {
	Sides   []dupContact // the two contacts; the first survives a merge
	Reasons []string     // catalogue keys
}

// dupContact is one contact of a pair: what the purpose may see of it.
type dupContact struct {
	ID           string
	Name         string
	NameWithheld bool
	Emails       string
	Organization string
	Source       string // source and legal basis of the latest provenance record
}

func dupContactOf(c *tresor.Contact) dupContact {
	d := dupContact{ID: c.ID, NameWithheld: slices.Contains(c.Withheld, tresor.CatContactName),
		Emails: strings.Join(c.Emails, ", "), Organization: c.Organization}
	d.Name = strings.TrimSpace(c.GivenName + " " + c.FamilyName)
	if recs, err := c.Provenance.Records(); err == nil && len(recs) > 0 {
		last := recs[len(recs)-1]
		d.Source = string(last.Source) + " · " + string(last.LegalBasis)
	}
	return d
}

// reasonKey is the catalogue key of a duplicate reason.
func reasonKey(r tresor.DuplicateReason) string {
	switch {
	case r == tresor.DuplicateName:
		return "dup_reason_name"
	case r == tresor.DuplicateReason(tresor.LookupEmail):
		return "dup_reason_email"
	case r == tresor.DuplicateReason(tresor.LookupPhone):
		return "dup_reason_phone"
	}
	return "dup_reason_handle"
}

func (s *Server) duplicatesPage(w http.ResponseWriter, r *http.Request) error {
	v, err := s.workspaceView(r, "dup_title", "/contacts")
	if err != nil {
		return err
	}
	data := &duplicatesData{}
	v.Data = data
	after, err := tresor.DecodeCursor(r.URL.Query().Get("cursor"))
	if err != nil {
		return err
	}
	data.Paged = after != ""
	if r.URL.Query().Get("done") == "merged" {
		v.Notice = "dup_merged"
	}
	m, err := s.merges()
	if err != nil {
		return err
	}
	l, err := m.Duplicates(r.Context(), tresor.Page{After: after, Limit: tresor.DefaultPageSize})
	if err != nil {
		if data.Refusal, err = dealRefusalOf(r, err); err != nil {
			return err
		}
		return s.render(w, r, data.Refusal.status(), "contacts_duplicates", v)
	}
	data.Next, data.Total = l.Next, l.Total
	for _, d := range l.Items {
		row := duplicateRow{Sides: []dupContact{dupContactOf(d.Contacts[0]), dupContactOf(d.Contacts[1])}}
		for _, rs := range d.Reasons {
			row.Reasons = append(row.Reasons, reasonKey(rs))
		}
		data.Pairs = append(data.Pairs, row)
	}
	return s.render(w, r, http.StatusOK, "contacts_duplicates", v)
}

// mergeData is what the confirmation of a merge shows.
type mergeData struct {
	Refusal *shownRefusal
	Into    dupContact
	From    dupContact
	Sides   []dupContact // Into and From, for the table
	Error   string
}

func (s *Server) mergeConfirmPage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	return s.renderMerge(w, r, http.StatusOK, q.Get("into"), q.Get("from"), "")
}

// renderMerge shows the confirmation of absorbing from into into, with a
// refusal of the gate or a form error.
func (s *Server) renderMerge(w http.ResponseWriter, r *http.Request, status int, into, from, formErr string) error {
	v, err := s.workspaceView(r, "dup_confirm_title", "/contacts")
	if err != nil {
		return err
	}
	data := &mergeData{Error: formErr}
	v.Data = data
	for _, side := range []struct {
		id  string
		out *dupContact
	}{{into, &data.Into}, {from, &data.From}} {
		c, err := s.svc.Contacts.Contact(r.Context(), side.id)
		if err != nil {
			if data.Refusal, err = dealRefusalOf(r, err); err != nil {
				return err
			}
			return s.render(w, r, data.Refusal.status(), "contacts_merge", v)
		}
		*side.out = dupContactOf(c)
	}
	data.Sides = []dupContact{data.Into, data.From}
	return s.render(w, r, status, "contacts_merge", v)
}

// mergeSubmit merges after the person confirmed; a refusal of the gate is
// shown on the confirmation page.
func (s *Server) mergeSubmit(w http.ResponseWriter, r *http.Request) error {
	id, from := r.PathValue("id"), r.PostFormValue("from")
	if r.PostFormValue("confirm") != "1" {
		return s.renderMerge(w, r, http.StatusUnprocessableEntity, id, from, translate(language(r), "dup_confirm_missing"))
	}
	m, err := s.merges()
	if err != nil {
		return err
	}
	err = s.once(w, r, func() (string, error) {
		if _, err := m.MergeContact(r.Context(), id, from); err != nil {
			return "", err
		}
		return "/contacts/" + url.PathEscape(id) + "?done=merged", nil
	})
	if rf := refusalOf(r, err); err != nil && rf != nil {
		status, _ := pageStatus(err)
		return s.renderMerge(w, r, status, id, from, rf.Message+" ("+rf.Code+")")
	}
	return err
}
