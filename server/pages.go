package server

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"

	"tresor"
)

//go:embed web
var webFS embed.FS

// pages are the HTML templates, parsed and checked at start.
type pages struct {
	byName map[string]*template.Template
}

// pageNames are the pages; each is layout.html plus its own template.
var pageNames = []string{"login", "mfa", "enroll", "recovery", "account", "token", "reset", "message", "consent"}

func mustParsePages() *pages {
	p := &pages{byName: map[string]*template.Template{}}
	funcs := template.FuncMap{"t": translate}
	for _, name := range pageNames {
		t := template.Must(template.New("layout").Funcs(funcs).ParseFS(webFS, "web/templates/layout.html", "web/templates/"+name+".html"))
		p.byName[name] = t
	}
	// Every template file is a declared page, and every page has a file.
	files, err := fs.Glob(webFS, "web/templates/*.html")
	if err != nil || len(files) != len(pageNames)+1 {
		panic(fmt.Sprintf("server: %d template files for %d pages", len(files), len(pageNames)))
	}
	return p
}

// view is what a page template sees.
type view struct {
	Lang        string
	Title       string // a catalogue key
	Error       string // already translated (or a message from the gate)
	Notice      string // a catalogue key
	Email       string // the signed-in user, for the header
	CSRF        string
	FormToken   string
	Value       string
	SSO         bool
	Message     string
	Link        string
	Enrollment  *tresor.TOTPEnrollment
	Codes       []string
	Secret      string
	User        *tresor.User
	Roles       []tresor.Role
	Purposes    []string
	Tokens      []*tresor.Token
	HasPassword bool
	Consent     *tresor.ConsentLink
}

// pageCSP allows the page its own stylesheet and nothing else: no scripts,
// no inline styles, forms only to this origin.
const pageCSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// render writes a page with the status.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p view) error {
	p.Lang = language(r)
	var buf bytes.Buffer
	if err := s.pages.byName[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", pageCSP)
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// language picks German or English from Accept-Language.
func language(r *http.Request) string {
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.Split(part, ";")[0]))
		switch {
		case strings.HasPrefix(tag, "de"):
			return "de"
		case strings.HasPrefix(tag, "en"):
			return "en"
		}
	}
	return "en"
}

// translate looks a key up in the catalogue; an unknown key is shown as is,
// so that messages from the gate pass through.
func translate(lang, key string) string {
	if m, ok := catalogue[key]; ok {
		if s := m[lang]; s != "" {
			return s
		}
		return m["en"]
	}
	return key
}

// catalogue holds the page texts in English and German.
var catalogue = map[string]map[string]string{
	"sign_in":           {"en": "Sign in", "de": "Anmelden"},
	"sign_in_sso":       {"en": "Sign in with your company account", "de": "Mit dem Firmenkonto anmelden"},
	"login_help":        {"en": "Forgot your password? An administrator can send you a link to set a new one.", "de": "Passwort vergessen? Eine Administratorin oder ein Administrator kann Ihnen einen Link zum Setzen eines neuen schicken."},
	"email":             {"en": "E-mail address", "de": "E-Mail-Adresse"},
	"password":          {"en": "Password", "de": "Passwort"},
	"logout":            {"en": "Sign out", "de": "Abmelden"},
	"second_factor":     {"en": "Second factor", "de": "Zweiter Faktor"},
	"mfa_intro":         {"en": "Enter the six-digit code of your authenticator app.", "de": "Geben Sie den sechsstelligen Code Ihrer Authenticator-App ein."},
	"mfa_recovery_hint": {"en": "Lost your device? Enter one of your recovery codes instead.", "de": "Gerät verloren? Geben Sie stattdessen einen Ihrer Wiederherstellungscodes ein."},
	"code":              {"en": "Code", "de": "Code"},
	"confirm":           {"en": "Confirm", "de": "Bestätigen"},
	"continue":          {"en": "Continue", "de": "Weiter"},
	"set_up_mfa":        {"en": "Set up the second factor", "de": "Zweiten Faktor einrichten"},
	"enroll_intro":      {"en": "Your role requires a second factor: a code from an authenticator app in addition to your password.", "de": "Ihre Rolle verlangt einen zweiten Faktor: einen Code aus einer Authenticator-App zusätzlich zum Passwort."},
	"enroll_secret":     {"en": "Add this key to your authenticator app:", "de": "Tragen Sie diesen Schlüssel in Ihre Authenticator-App ein:"},
	"enroll_uri":        {"en": "Or paste this address into the app:", "de": "Oder fügen Sie diese Adresse in die App ein:"},
	"recovery_codes":    {"en": "Recovery codes", "de": "Wiederherstellungscodes"},
	"recovery_intro":    {"en": "The second factor is on. Keep these recovery codes in a safe place: each one signs you in once if you lose your device. They are shown only now.", "de": "Der zweite Faktor ist eingeschaltet. Bewahren Sie diese Wiederherstellungscodes sicher auf: Jeder meldet Sie einmal an, falls Sie Ihr Gerät verlieren. Sie werden nur jetzt angezeigt."},
	"account":           {"en": "Your account", "de": "Ihr Konto"},
	"roles":             {"en": "Roles", "de": "Rollen"},
	"purposes":          {"en": "Purposes", "de": "Zwecke"},
	"no_purposes":       {"en": "none — your roles reach no personal data", "de": "keine – Ihre Rollen erreichen keine personenbezogenen Daten"},
	"mfa_on":            {"en": "on (authenticator app)", "de": "eingeschaltet (Authenticator-App)"},
	"mfa_off":           {"en": "off", "de": "ausgeschaltet"},
	"mfa_set_up":        {"en": "set up", "de": "einrichten"},
	"tokens":            {"en": "API tokens", "de": "API-Tokens"},
	"no_tokens":         {"en": "You have no API tokens.", "de": "Sie haben keine API-Tokens."},
	"name":              {"en": "Name", "de": "Name"},
	"expires":           {"en": "Expires", "de": "Läuft ab"},
	"last_used":         {"en": "Last used", "de": "Zuletzt benutzt"},
	"revoke":            {"en": "Revoke", "de": "Widerrufen"},
	"revoked":           {"en": "revoked", "de": "widerrufen"},
	"valid_days":        {"en": "Valid for (days)", "de": "Gültig für (Tage)"},
	"create_token":      {"en": "Create token", "de": "Token erstellen"},
	"new_token":         {"en": "Your new API token", "de": "Ihr neues API-Token"},
	"token_once":        {"en": "Copy the token now: it is shown only this once, and Tresor keeps only a hash of it.", "de": "Kopieren Sie das Token jetzt: Es wird nur dieses eine Mal angezeigt, Tresor speichert nur einen Hash davon."},
	"change_password":   {"en": "Change password", "de": "Passwort ändern"},
	"current_password":  {"en": "Current password", "de": "Aktuelles Passwort"},
	"new_password":      {"en": "New password", "de": "Neues Passwort"},
	"set_password":      {"en": "Set password", "de": "Passwort setzen"},
	"password_rules":    {"en": "At least 12 characters and not a common password. A few unrelated words work well; no special characters are required.", "de": "Mindestens 12 Zeichen und kein verbreitetes Passwort. Einige unzusammenhängende Wörter sind gut; Sonderzeichen sind nicht nötig."},
	"password_changed":  {"en": "Your password was changed; your other sessions have ended.", "de": "Ihr Passwort wurde geändert; Ihre anderen Sitzungen sind beendet."},
	"password_set":      {"en": "Your password is set. Sign in with it.", "de": "Ihr Passwort ist gesetzt. Melden Sie sich damit an."},
	"reset_password":    {"en": "Set a new password", "de": "Neues Passwort setzen"},
	"sessions":          {"en": "Sessions", "de": "Sitzungen"},
	"logout_all":        {"en": "Sign out everywhere", "de": "Überall abmelden"},
	"logout_all_help":   {"en": "Ends every session of yours, on every device, including this one.", "de": "Beendet alle Ihre Sitzungen auf allen Geräten, auch diese."},
	"signed_out":        {"en": "You are signed out.", "de": "Sie sind abgemeldet."},
	"form_expired":      {"en": "The form has expired. Please try again.", "de": "Das Formular ist abgelaufen. Bitte versuchen Sie es erneut."},
	"sso_failed":        {"en": "Sign-in with your company account failed. Please try again.", "de": "Die Anmeldung mit dem Firmenkonto ist fehlgeschlagen. Bitte versuchen Sie es erneut."},
	"not_found":         {"en": "Not found", "de": "Nicht gefunden"},
	"consent":           {"en": "Your consent", "de": "Ihre Einwilligung"},
	"consent_purpose":   {"en": "Purpose", "de": "Zweck"},
	"consent_channel":   {"en": "Channel", "de": "Kanal"},
	"consent_state":     {"en": "State", "de": "Stand"},
	"state_unknown":     {"en": "not given", "de": "nicht erteilt"},
	"state_pending":     {"en": "waiting for your confirmation", "de": "wartet auf Ihre Bestätigung"},
	"state_granted":     {"en": "given", "de": "erteilt"},
	"state_withdrawn":   {"en": "withdrawn", "de": "widerrufen"},
	"state_expired":     {"en": "lapsed", "de": "erloschen"},
	"confirm_intro":     {"en": "Please confirm that we may contact you for this purpose on this channel.", "de": "Bitte bestätigen Sie, dass wir Sie für diesen Zweck über diesen Kanal kontaktieren dürfen."},
	"confirm_button":    {"en": "Yes, I confirm", "de": "Ja, ich bestätige"},
	"confirmed":         {"en": "Thank you: your consent is confirmed. You can withdraw it at any time with the link in each of our messages.", "de": "Danke: Ihre Einwilligung ist bestätigt. Sie können sie jederzeit mit dem Link in jeder unserer Nachrichten widerrufen."},
	"withdraw_intro":    {"en": "Do you want to withdraw your consent? We will then no longer contact you for this purpose on this channel.", "de": "Möchten Sie Ihre Einwilligung widerrufen? Dann kontaktieren wir Sie für diesen Zweck über diesen Kanal nicht mehr."},
	"withdraw_button":   {"en": "Withdraw consent", "de": "Einwilligung widerrufen"},
	"withdrawn":         {"en": "Your consent is withdrawn. We will not contact you for this purpose on this channel any more.", "de": "Ihre Einwilligung ist widerrufen. Wir kontaktieren Sie für diesen Zweck über diesen Kanal nicht mehr."},
	"link_invalid":      {"en": "This link is not valid: it was changed, it was used already, or it has expired. Nothing was changed.", "de": "Dieser Link ist nicht gültig: Er wurde verändert, schon benutzt oder ist abgelaufen. Es wurde nichts geändert."},
	"err_login_failed":  {"en": "The e-mail address, the password or the code is wrong.", "de": "E-Mail-Adresse, Passwort oder Code sind falsch."},
	"err_throttled":     {"en": "Too many failed attempts. Please wait a moment before you try again.", "de": "Zu viele Fehlversuche. Bitte warten Sie einen Moment, bevor Sie es erneut versuchen."},
	"err_not_found":     {"en": "This link or page does not exist, was used already or has expired.", "de": "Dieser Link oder diese Seite existiert nicht, wurde schon benutzt oder ist abgelaufen."},
}

// randomToken returns 24 random bytes, base64url-encoded.
func randomToken() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
