package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"tresor"
	"tresor/mailtest"
)

var (
	verifyLinkRe = regexp.MustCompile(`https?://[^\s]+/requests/verify\?token=[^\s]+`)
	formTokenRe  = regexp.MustCompile(`name="form_token" value="([^"]+)"`)
	tokenFieldRe = regexp.MustCompile(`name="token" value="([^"]+)"`)
)

// publicClient is a person's browser without an account: cookies, forms.
type publicClient struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newPublicClient(t *testing.T, base string) *publicClient {
	jar, _ := cookiejar.New(nil)
	return &publicClient{t: t, base: base, c: &http.Client{Jar: jar}}
}

func (p *publicClient) get(u string) (int, string) {
	p.t.Helper()
	if strings.HasPrefix(u, "/") {
		u = p.base + u
	}
	res, err := p.c.Get(u)
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func (p *publicClient) post(path string, form url.Values) (int, http.Header, []byte) {
	p.t.Helper()
	res, err := p.c.PostForm(p.base+path, form)
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, b
}

func field(t *testing.T, re *regexp.Regexp, page string) string {
	t.Helper()
	m := re.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no %s in %.400s", re, page)
	}
	return m[1]
}

// askAndVerify sends a request of access through the public form as the
// person at address, confirms the mailed link with its button and returns
// the thank-you page.
func askAndVerify(t *testing.T, base, mailAPI, address string) string {
	t.Helper()
	p := newPublicClient(t, base)
	status, page := p.get("/requests/new?lang=en")
	if status != 200 {
		t.Fatalf("form: %d", status)
	}
	status, _, body := p.post("/requests/new", url.Values{"form_token": {field(t, formTokenRe, page)}, "kind": {"access"},
		"email": {address}, "language": {"en"}, "message": {"Please tell me what you keep about me."}})
	if status != 200 {
		t.Fatalf("submit: %d %.300s", status, body)
	}
	// The mail is in the language the person chose.
	text, _ := mailtest.Message(t, mailAPI, address, "Please confirm your data-protection request")
	link := verifyLinkRe.FindString(text)
	u, err := url.Parse(link)
	if err != nil || link == "" {
		t.Fatalf("no verification link in %q", text)
	}
	status, page = p.get(u.RequestURI())
	if status != 200 {
		t.Fatalf("link page: %d", status)
	}
	status, _, body = p.post("/requests/verify", url.Values{"form_token": {field(t, formTokenRe, page)}, "token": {field(t, tokenFieldRe, page)}})
	if status != 200 {
		t.Fatalf("verify: %d %.300s", status, body)
	}
	return string(body)
}

// TestAccessRequestFromTheWebFormEndToEnd runs [2.4]'s access request end
// to end over HTTP on both backends with a real SMTP server (Mailpit): a
// person asks through the public form, the verification mail's link and
// button verify the address, the contact is found by blind index and the
// DPO links it, sends the export; the download link's mail arrives, the zip
// downloads once, its JSON validates against the schema and holds the
// person's interaction and access log and nothing of another person. A
// requester at an unknown address sees the same pages as one with data.
func TestAccessRequestFromTheWebFormEndToEnd(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			base, mailAPI, sales, dpo := requestServer(t, backend)
			n := rand.Uint64()
			known, unknown, neighbour := fmt.Sprintf("erika-%d@example.org", n), fmt.Sprintf("nobody-%d@example.org", n), fmt.Sprintf("otto-%d@example.org", n)

			ids := map[string]string{}
			for addr, who := range map[string][2]string{known: {"Erika", "Angebot Lizenzen besprochen"}, neighbour: {"Otto", "Ottos Reklamation Lieferung"}} {
				status, c := sales("POST", "/api/v1/contacts", `{"given_name":"`+who[0]+`","family_name":"Beispiel","emails":["`+addr+`"],"legal_basis":"contract"}`)
				if status != 201 {
					t.Fatalf("contact: %d %v", status, c)
				}
				ids[addr] = c["id"].(string)
				if status, in := sales("POST", "/api/v1/interactions", `{"kind":"call","direction":"inbound","contact_id":"`+ids[addr]+`","subject":"`+who[1]+`","legal_basis":"contract"}`); status != 201 {
					t.Fatalf("interaction: %d %v", status, in)
				}
				if status, _ := sales("GET", "/api/v1/contacts/"+ids[addr], ""); status != 200 {
					t.Fatalf("read: %d", status)
				}
			}

			var withData, withoutData string
			t.Run("a requester at an unknown address sees the same as one with data", func(t *testing.T) {
				withData = askAndVerify(t, base, mailAPI, known)
				withoutData = askAndVerify(t, base, mailAPI, unknown)
				strip := regexp.MustCompile(`name="(csrf|form_token)" value="[^"]*"`)
				if strip.ReplaceAllString(withData, "") != strip.ReplaceAllString(withoutData, "") {
					t.Errorf("the pages differ:\n%s\n---\n%s", withData, withoutData)
				}
				for _, w := range []string{"Erika", "Beispiel", ids[known]} {
					if strings.Contains(withData, w) {
						t.Errorf("the requester's page shows %q", w)
					}
				}
			})

			var rid string
			t.Run("the verified request finds the contact by blind index; the DPO links it", func(t *testing.T) {
				status, l := dpo("GET", "/api/v1/requests?state=identity_verified", "")
				if status != 200 {
					t.Fatalf("list: %d %v", status, l)
				}
				for _, it := range l["items"].([]any) {
					m := it.(map[string]any)
					if m["address"] == known {
						rid = m["id"].(string)
						cands, _ := m["candidates"].([]any)
						if len(cands) != 1 || cands[0] != ids[known] {
							t.Errorf("candidates = %v, want %s", cands, ids[known])
						}
					}
				}
				if rid == "" {
					t.Fatalf("the verified request is not listed: %v", l)
				}
				if status, r := dpo("POST", "/api/v1/requests/"+rid+"/contacts", `{"contact_id":"`+ids[known]+`"}`); status != 200 {
					t.Fatalf("link: %d %v", status, r)
				}
			})

			t.Run("the export's link arrives, downloads once, validates and holds the person and nobody else", func(t *testing.T) {
				if rid == "" {
					t.Fatal("no verified request to answer")
				}
				if status, r := dpo("POST", "/api/v1/requests/"+rid+"/export", ""); status != 200 {
					t.Fatalf("export: %d %v", status, r)
				}
				// In the language the person asked in.
				text, _ := mailtest.Message(t, mailAPI, known, subjectExportSubjectEN)
				link := exportLinkRe.FindString(text)
				if link == "" {
					t.Fatalf("no download link in %q", text)
				}
				u, _ := url.Parse(link)
				p := newPublicClient(t, base)
				status, page := p.get(u.RequestURI())
				if status != 200 {
					t.Fatalf("link page: %d", status)
				}
				form := url.Values{"form_token": {field(t, formTokenRe, page)}, "token": {u.Query().Get("token")}}
				status, h, data := p.post("/subject-export", form)
				if status != 200 || h.Get("Content-Type") != "application/zip" {
					t.Fatalf("download: %d %s", status, h.Get("Content-Type"))
				}
				z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
				if err != nil {
					t.Fatal(err)
				}
				var doc, all []byte
				for _, f := range z.File {
					r, _ := f.Open()
					b, _ := io.ReadAll(r)
					r.Close()
					all = append(all, b...)
					if f.Name == "export.json" {
						doc = b
					}
				}
				validateAgainstSchema(t, doc)
				var x tresor.SubjectExport
				if err := json.Unmarshal(doc, &x); err != nil {
					t.Fatal(err)
				}
				if len(x.Interactions) != 1 || x.Interactions[0].Subject != "Angebot Lizenzen besprochen" {
					t.Errorf("interactions = %+v", x.Interactions)
				}
				if !slices.ContainsFunc(x.AccessLog, func(a tresor.SubjectAccess) bool {
					return a.Action == "contact.read" && a.Purpose == "sales"
				}) {
					t.Errorf("the access log lacks the colleague's read: %+v", x.AccessLog)
				}
				for _, w := range []string{"Otto", neighbour, ids[neighbour], "Ottos Reklamation", "seller@example.org", "officer@example.org", unknown} {
					if bytes.Contains(all, []byte(w)) {
						t.Errorf("the export holds %q", w)
					}
				}
				if status, _, _ := p.post("/subject-export", form); status == 200 {
					t.Error("the link downloaded twice")
				}
			})
		})
	}
}

// subjectExportSubjectEN is the English subject of the download link's mail.
const subjectExportSubjectEN = "Your access to your personal data (Art. 15 GDPR)"
