package server

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"tresor"
)

// TestDecisionsPartial: the decisions of a request render in both languages
// with the forms its kind calls for, each with the session's form token and
// a required reason where the rule needs one.
func TestDecisionsPartial(t *testing.T) {
	p := mustParsePages()
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	recipients := []tresor.Recipient{{ContactID: "c1", Kind: "email", Count: 2, First: at, Last: at}}
	for _, lang := range languages {
		for _, c := range []struct {
			kind       tresor.RequestKind
			want, none []string
		}{
			{tresor.RequestRectification, []string{`action="/dpo/requests/r1/rectify"`, `action="/dpo/requests/r1/recipients-notified"`,
				`name="note" required`, translate(lang, "decisions_rectify_submit")}, []string{"/erase", "/compelling-grounds"}},
			{tresor.RequestObjection, []string{`action="/dpo/requests/r1/object"`, `action="/dpo/requests/r1/compelling-grounds"`,
				`action="/dpo/requests/r1/lift"`, `name="what" value="objection"`, `id="decisions-grounds-reason" name="reason" required`,
				`<option value="sales">`}, []string{`<option value="marketing">`, "/restrict"}},
			// Art. 21(2): no compelling grounds; lifted only as the person's
			// own withdrawal, with the evidence as the required reason.
			{tresor.RequestObjectionDirect, []string{`action="/dpo/requests/r1/object"`, translate(lang, "decisions_object_marketing"),
				`action="/dpo/requests/r1/lift"`, `name="what" value="objection_marketing"`,
				`id="decisions-lift-marketing-reason" name="reason" required`, translate(lang, "decisions_lift_marketing_help")},
				[]string{"/compelling-grounds", `name="what" value="objection"`}},
			{tresor.RequestRestriction, []string{`action="/dpo/requests/r1/restrict"`, `name="what" value="restriction"`,
				`id="decisions-lift-reason" name="reason" required`}, []string{"/rectify"}},
			{tresor.RequestErasure, []string{`action="/dpo/requests/r1/erase"`, translate(lang, "decisions_erase_help")}, []string{"/lift"}},
		} {
			t.Run(string(c.kind)+" in "+lang, func(t *testing.T) {
				r := &tresor.Request{Kind: c.kind, State: tresor.RequestInProgress}
				r.ID, r.ContactIDs = "r1", []string{"c1"}
				box := &decisionBox{Lang: lang, CSRF: "tok<en>", Request: r, Recipients: recipients, Purposes: []string{"sales", "service"},
					Done: "decisions_done_lift"}
				var buf bytes.Buffer
				if err := p.byName["requests"].ExecuteTemplate(&buf, "request_decisions", box); err != nil {
					t.Fatal(err)
				}
				out := buf.String()
				for _, want := range append(c.want, `name="csrf" value="tok&lt;en&gt;"`, translate(lang, "decisions_done_lift")) {
					if !strings.Contains(out, want) {
						t.Errorf("lacks %s:\n%s", want, out)
					}
				}
				for _, no := range c.none {
					if strings.Contains(out, no) {
						t.Errorf("has %s, which a request of kind %s does not offer", no, c.kind)
					}
				}
			})
		}
	}
}
