package policy_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"tresor"
	"tresor/policy"
)

const controllerYAML = `
controller: {name: Beispiel GmbH, address: "Musterstraße 1, 10115 Berlin", email: datenschutz@example.org}
dpo: {name: Dr. Erika Beispiel, email: dsb@example.org}
recipients:
  - {de: Hosting-Dienstleister, en: Hosting provider}
  - {de: Steuerberater, en: Tax adviser, purposes: [sales]}
transfers:
  - {connector: bluesky, endpoint: bsky.social, country: US, safeguard: scc, purposes: [pr]}
  - {connector: mastodon, endpoint: mastodon.example.de, country: DE}
`

func mustController(t *testing.T, p *policy.Policy, text string) *policy.Controller {
	t.Helper()
	c, err := policy.ParseController([]byte(text), p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func activity(t *testing.T, r *tresor.ProcessingRecord, id string) tresor.ProcessingActivity {
	t.Helper()
	for _, a := range r.Activities {
		if a.Purpose == id {
			return a
		}
	}
	t.Fatalf("no activity %s", id)
	return tresor.ProcessingActivity{}
}

func measure(t *testing.T, r *tresor.ProcessingRecord, id string) string {
	t.Helper()
	for _, m := range r.Measures {
		if m.ID == id {
			return m.Text
		}
	}
	t.Fatalf("no measure %s", id)
	return ""
}

var base = policy.Settings{KEK: policy.KEKFile, RetentionRun: 24 * time.Hour, AuditKeep: 87600 * time.Hour, AuditClient: "truncated",
	Checkpoints: time.Minute}

func TestRecordOfProcessingStatesWhatThePolicyAndSettingsSay(t *testing.T) {
	def := policy.Default()
	ctl := mustController(t, def, controllerYAML)

	t.Run("a purpose's categories and retention come from the policy", func(t *testing.T) {
		changed := strings.Replace(string(policy.DefaultYAML()), "retention_days: 730", "retention_days: 200", 1) // marketing
		changed = strings.Replace(changed, "categories: [contact.name, contact.email, contact.phone, contact.language, social.handle,\n                 professional.employer, professional.position]",
			"categories: [contact.name, contact.email, professional.position]", 1)
		p, err := policy.Parse([]byte(changed))
		if err != nil {
			t.Fatal(err)
		}
		a := activity(t, p.Record(ctl, base, "en"), "marketing")
		var ids []tresor.Category
		for _, c := range a.Categories {
			ids = append(ids, c.ID)
		}
		if !slices.Equal(ids, []tresor.Category{"contact.name", "contact.email", "professional.position"}) {
			t.Fatalf("categories %v, want the policy's three", ids)
		}
		if a.RetentionDays != 200 || !strings.Contains(a.Retention, "200 days") {
			t.Fatalf("retention %d %q, want 200 days", a.RetentionDays, a.Retention)
		}
		if a.Categories[2].RetentionDays != 365 || !strings.Contains(a.Retention, "Position: 365 days") {
			t.Fatalf("the category's own period is missing: %+v %q", a.Categories[2], a.Retention)
		}
		if got := activity(t, def.Record(ctl, base, "en"), "marketing"); got.RetentionDays != 730 {
			t.Fatalf("the default policy's marketing period is %d", got.RetentionDays)
		}
	})

	t.Run("legal bases name their article", func(t *testing.T) {
		a := activity(t, def.Record(ctl, base, "de"), "marketing")
		if len(a.LegalBases) != 2 || !strings.Contains(a.LegalBases[0].Text, "Art. 6 Abs. 1 lit. a DSGVO") {
			t.Fatalf("legal bases %+v", a.LegalBases)
		}
	})

	t.Run("a connector in a third country appears as a transfer with its safeguard", func(t *testing.T) {
		s := base
		s.InUse = []policy.Connector{{Kind: "bluesky", Endpoint: "company.bsky.social"}}
		r := def.Record(ctl, s, "en")
		pr := activity(t, r, "pr")
		if len(pr.Transfers) != 1 || pr.Transfers[0].Country != "US" || !pr.Transfers[0].InUse ||
			!strings.Contains(pr.Transfers[0].Safeguard, "Standard contractual clauses") {
			t.Fatalf("pr transfers %+v", pr.Transfers)
		}
		if len(activity(t, r, "sales").Transfers) != 0 {
			t.Fatal("the transfer declared for pr shows under sales")
		}
		if len(activity(t, r, "analytics").Transfers) != 0 {
			t.Fatal("a transfer shows under analytics")
		}
	})

	t.Run("a connector in the EU/EEA is no third-country transfer", func(t *testing.T) {
		s := base
		s.InUse = []policy.Connector{{Kind: "mastodon", Endpoint: "mastodon.example.de"}}
		r := def.Record(ctl, s, "en")
		if len(activity(t, r, "marketing").Transfers) != 0 {
			t.Fatal("a German Mastodon server counts as a third country")
		}
	})

	t.Run("a connector in use that the controller file does not declare is shown as undeclared", func(t *testing.T) {
		s := base
		s.InUse = []policy.Connector{{Kind: "mastodon", Endpoint: "mastodon.social"}}
		r := def.Record(ctl, s, "en")
		i := slices.IndexFunc(r.Transfers, func(x tresor.RecordTransfer) bool { return x.Endpoint == "mastodon.social" })
		if i < 0 || r.Transfers[i].Declared || !r.Transfers[i].InUse || !strings.Contains(r.Transfers[i].Safeguard, "Not declared") {
			t.Fatalf("transfers %+v", r.Transfers)
		}
	})

	t.Run("recipients come from the roles and the controller file", func(t *testing.T) {
		r := def.Record(ctl, base, "en")
		sales, mk := activity(t, r, "sales"), activity(t, r, "marketing")
		if !slices.Contains(sales.Recipients, "Tax adviser") || slices.Contains(mk.Recipients, "Tax adviser") {
			t.Fatalf("sales %v, marketing %v", sales.Recipients, mk.Recipients)
		}
		if !slices.Contains(mk.Recipients, "Internal: staff with the role marketing") || !slices.Contains(mk.Recipients, "Hosting provider") {
			t.Fatalf("marketing recipients %v", mk.Recipients)
		}
	})

	t.Run("turning backups on or off changes the measures", func(t *testing.T) {
		off := measure(t, def.Record(ctl, base, "en"), "backups")
		s := base
		s.BackupTo = []string{"age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq"}
		on := measure(t, def.Record(ctl, s, "en"), "backups")
		if !strings.Contains(off, "No backup recipient is configured") {
			t.Fatalf("without recipients: %q", off)
		}
		if !strings.Contains(on, "encrypted with age to 1 recipient") || !strings.Contains(on, "age1qyqsz…90gq") {
			t.Fatalf("with a recipient: %q", on)
		}
	})

	t.Run("the key source is the one configured", func(t *testing.T) {
		s := base
		s.KEK, s.TransitKey = policy.KEKTransit, "crm-kek"
		if got := measure(t, def.Record(ctl, s, "en"), "keys"); !strings.Contains(got, "transit key “crm-kek”") {
			t.Fatalf("transit: %q", got)
		}
		if got := measure(t, def.Record(ctl, base, "en"), "keys"); !strings.Contains(got, "key file outside the database") {
			t.Fatalf("file: %q", got)
		}
	})

	t.Run("the retention interval and the audit settings are the configured ones", func(t *testing.T) {
		s := base
		s.RetentionRun, s.AuditClient, s.AuditStream, s.AuditKeep = 0, "none", "syslog", 0
		r := def.Record(ctl, s, "en")
		if got := measure(t, r, "retention"); !strings.Contains(got, "turned off") {
			t.Fatalf("retention off: %q", got)
		}
		if got := measure(t, def.Record(ctl, base, "en"), "retention"); !strings.Contains(got, "every 24 h") {
			t.Fatalf("retention daily: %q", got)
		}
		got := measure(t, r, "audit")
		for _, want := range []string{"hash-chained", "Ed25519", "not stored", "without limit", "syslog"} {
			if !strings.Contains(got, want) {
				t.Errorf("audit measure lacks %q: %q", want, got)
			}
		}
	})

	t.Run("access control names the roles, deny by default and the second factor", func(t *testing.T) {
		got := measure(t, def.Record(ctl, base, "en"), "access")
		for _, want := range []string{"deny by default", "admin → no personal data", "sales → sales", "required for: admin, dpo"} {
			if !strings.Contains(got, want) {
				t.Errorf("access measure lacks %q: %q", want, got)
			}
		}
	})

	t.Run("the information texts name the controller, the DPO and withdrawal of consent where consent is a basis", func(t *testing.T) {
		r := def.Record(ctl, base, "de")
		if len(r.InformationTexts) != len(def.Purposes) {
			t.Fatalf("%d texts for %d purposes", len(r.InformationTexts), len(def.Purposes))
		}
		texts := map[string]string{}
		for _, it := range r.InformationTexts {
			texts[it.Purpose] = strings.Join(it.Paragraphs, "\n")
		}
		if !strings.Contains(texts["marketing"], "Beispiel GmbH") || !strings.Contains(texts["marketing"], "dsb@example.org") ||
			!strings.Contains(texts["marketing"], "widerrufen") {
			t.Fatalf("marketing text: %s", texts["marketing"])
		}
		if strings.Contains(texts["service"], "widerrufen") {
			t.Fatal("the service text offers to withdraw a consent service does not rely on")
		}
		if !strings.Contains(texts["pr"], "Drittländer: bsky.social") {
			t.Fatalf("pr text does not name the transfer: %s", texts["pr"])
		}
	})

	t.Run("the record speaks German and English", func(t *testing.T) {
		de, en := def.Record(ctl, base, "de"), def.Record(ctl, base, "en")
		if activity(t, de, "sales").Name != "Vertrieb" || activity(t, en, "sales").Name != "Sales" {
			t.Fatal("the purpose names are not in the record's language")
		}
		if measure(t, de, "encryption") == measure(t, en, "encryption") {
			t.Fatal("the measures are not translated")
		}
	})
}

func TestControllerFileRefusesBadInputWithOneLineErrors(t *testing.T) {
	def := policy.Default()
	cases := []struct{ name, text, want string }{
		{"a country that is no ISO code", strings.Replace(controllerYAML, "country: US", "country: USA", 1), `line 8: transfers: bluesky bsky.social: country "USA" is not a two-letter ISO 3166 code`},
		{"a third country without a safeguard", strings.Replace(controllerYAML, ", safeguard: scc", "", 1), "goes to US outside the EU/EEA and needs a safeguard"},
		{"a safeguard inside the EU", strings.Replace(controllerYAML, "country: DE}", "country: DE, safeguard: scc}", 1), "stays in the EU/EEA (DE), so it needs no safeguard"},
		{"an unknown connector", strings.Replace(controllerYAML, "connector: mastodon", "connector: linkedin", 1), `connector "linkedin": use mastodon, bluesky, mail`},
		{"an unknown purpose", strings.Replace(controllerYAML, "purposes: [sales]", "purposes: [telemarketing]", 1), `recipients: unknown purpose "telemarketing"`},
		{"an unknown key", controllerYAML + "backups: yes\n", "field backups not found"},
		{"a bad e-mail address", strings.Replace(controllerYAML, "email: dsb@example.org", "email: dsb", 1), `dpo.email "dsb" is not an e-mail address`},
		{"no controller at all", "dpo: {name: X, email: x@example.org}\n", "controller.name is missing"},
		{"an empty file", "", "the file is empty"},
		{"a recipient in one language", strings.Replace(controllerYAML, ", en: Hosting provider", "", 1), "recipients: each needs a German (de) and an English (en) text"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := policy.ParseController([]byte(c.text), def)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q, want one line with %q", err, c.want)
			}
		})
	}
}
