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
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"tresor"
	"tresor/mailtest"
	"tresor/storetest"
)

var exportLinkRe = regexp.MustCompile(`https?://[^\s]+/subject-export\?token=[^\s]+`)

// TestSubjectExportOverRealSMTP runs an answer to a request of access end
// to end on both backends: the DPO sends the export, the real server mails
// the link through a real SMTP server (Mailpit), the person opens the page
// and downloads the zip once; its JSON validates against the committed
// schema and holds the person's interactions and the access log.
func TestSubjectExportOverRealSMTP(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			base, api, sales, dpo := requestServer(t, backend)
			to := fmt.Sprintf("access-%d@example.org", rand.Uint64())

			status, c := sales("POST", "/api/v1/contacts", `{"given_name":"Erika","family_name":"Mustermann","emails":["`+to+`"],"legal_basis":"contract"}`)
			if status != 201 {
				t.Fatalf("create contact: %d %v", status, c)
			}
			id := c["id"].(string)
			if status, in := sales("POST", "/api/v1/interactions", `{"kind":"call","direction":"inbound","contact_id":"`+id+`","subject":"Staffelpreise erfragt","legal_basis":"contract"}`); status != 201 {
				t.Fatalf("create interaction: %d %v", status, in)
			}
			if status, _ := sales("GET", "/api/v1/contacts/"+id, ""); status != 200 {
				t.Fatalf("read contact: %d", status)
			}
			today := time.Now().UTC().Format(time.DateOnly)
			status, rq := dpo("POST", "/api/v1/requests", `{"kind":"access","channel":"email","address":"`+to+`","received_at":"`+today+`","contact_ids":["`+id+`"]}`)
			if status != 201 {
				t.Fatalf("create request: %d %v", status, rq)
			}
			rid := rq["id"].(string)
			if status, r := dpo("POST", "/api/v1/requests/"+rid+"/export", ""); status != 409 || r["code"] != "conflict" {
				t.Fatalf("export before the identity is verified: %d %v", status, r)
			}
			if status, r := dpo("POST", "/api/v1/requests/"+rid+"/state", `{"state":"identity_verified"}`); status != 200 {
				t.Fatalf("verify: %d %v", status, r)
			}
			if status, r := sales("POST", "/api/v1/requests/"+rid+"/export", ""); status != 403 {
				t.Fatalf("export by sales: %d %v", status, r)
			}
			status, sent := dpo("POST", "/api/v1/requests/"+rid+"/export", "")
			if status != 200 || sent["request_id"] != rid {
				t.Fatalf("export: %d %v", status, sent)
			}

			text, headers := mailtest.Message(t, api, to, "Ihre Auskunft nach Art. 15 DSGVO")
			link := exportLinkRe.FindString(text)
			if link == "" || len(headers["List-Unsubscribe"]) != 0 {
				t.Fatalf("mail: %q %v", text, headers)
			}
			jar, _ := cookiejar.New(nil)
			browser := &http.Client{Jar: jar}
			res, err := browser.Get(link)
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || !strings.Contains(string(page), `id="subject-export-button"`) {
				t.Fatalf("link page: %d %.300s", res.StatusCode, page)
			}
			formToken := regexp.MustCompile(`name="form_token" value="([^"]+)"`).FindStringSubmatch(string(page))[1]
			form := url.Values{"form_token": {formToken}, "token": {strings.SplitN(link, "token=", 2)[1]}}
			res, err = browser.PostForm(base+"/subject-export", form)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/zip" {
				t.Fatalf("download: %d %s %.200s", res.StatusCode, res.Header.Get("Content-Type"), data)
			}
			z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			var doc []byte
			for _, f := range z.File {
				if f.Name == "export.json" {
					r, _ := f.Open()
					doc, _ = io.ReadAll(r)
				}
			}
			validateAgainstSchema(t, doc)
			var x tresor.SubjectExport
			if err := json.Unmarshal(doc, &x); err != nil {
				t.Fatal(err)
			}
			if len(x.Interactions) != 1 || x.Interactions[0].Subject != "Staffelpreise erfragt" {
				t.Errorf("interactions = %+v", x.Interactions)
			}
			if !slices.ContainsFunc(x.AccessLog, func(a tresor.SubjectAccess) bool {
				return a.Action == "contact.read" && a.Purpose == "sales" && slices.Equal(a.Roles, []string{"sales"})
			}) {
				t.Errorf("the access log lacks the colleague's read: %+v", x.AccessLog)
			}
			if bytes.Contains(doc, []byte("seller@example.org")) {
				t.Error("the export names the colleague")
			}

			// The link works once.
			res, err = browser.PostForm(base+"/subject-export", form)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusNotFound {
				t.Errorf("a used link: %d", res.StatusCode)
			}
			_, r := dpo("GET", "/api/v1/requests/"+rid, "")
			var actions []string
			for _, h := range r["history"].([]any) {
				if a, ok := h.(map[string]any)["action"].(string); ok {
					actions = append(actions, a)
				}
			}
			if !slices.Equal(actions, []string{"export_sent", "export_downloaded"}) {
				t.Errorf("history = %v", r["history"])
			}
		})
	}
}

// staffCall is a signed-in colleague's API call.
type staffCall = func(method, path, body string) (int, map[string]any)

// requestServer serves Tresor on the backend with a real SMTP server
// (Mailpit) and returns its address, Mailpit's API, a sales colleague and
// the DPO.
func requestServer(t *testing.T, backend string) (base, mailAPI string, sales, dpo staffCall) {
	t.Helper()
	smtpAddr, mailAPI := mailtest.Mailpit(t)
	env := map[string]string{"TRESOR_DATA_DIR": t.TempDir(), "TRESOR_SMTP_ADDR": smtpAddr, "TRESOR_SMTP_FROM": "Tresor CRM <crm@example.org>"}
	if backend == "postgres" {
		env["TRESOR_DB"] = storetest.PostgresURL(t)
	}
	base, _ = serveForTest(t, env, io.Discard)
	return base, mailAPI, staffAPI(t, env, base, "seller@example.org", "sales", "sales"),
		staffAPI(t, env, base, "officer@example.org", "dpo", "data_protection")
}

func validateAgainstSchema(t *testing.T, doc []byte) {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "docs", "schemas", "subject-export-v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	schemaDoc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("subject-export-v1.json", schemaDoc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("subject-export-v1.json")
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Fatalf("the export does not validate against its schema: %v", err)
	}
}
