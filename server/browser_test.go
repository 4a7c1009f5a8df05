package server_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tresor"
	"tresor/datadir"
)

// RequireBrowserEnv, when "1", turns a missing Chromium into a failure (CI sets it).
const RequireBrowserEnv = "TRESOR_TEST_REQUIRE_BROWSER"

// newChrome starts a headless Chromium, or skips the test without one.
func newChrome(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv(RequireBrowserEnv) == "1" {
			t.Fatalf("chromium is not installed, but %s=1 requires the browser tests", RequireBrowserEnv)
		}
		t.Skip("browser tests skipped: install chromium to run them")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.UserDataDir(t.TempDir()))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 5*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	return ctx
}

// TestBrowserSignInAndToken drives a real browser through the pages: sign
// in, create an API token, sign out — with the strict CSP in force.
func TestBrowserSignInAndToken(t *testing.T) {
	ctx := newChrome(t)
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	a.userWithPassword("kim@example.org", tresor.RoleSales, tresor.RoleService)

	step := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatal(err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(sel))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	step(chromedp.Navigate(a.url+"/"), chromedp.WaitVisible(`#email`),
		chromedp.SendKeys(`#email`, "kim@example.org"), chromedp.SendKeys(`#password`, webPassword),
		chromedp.Submit(`#password`), chromedp.WaitVisible(`#account-roles`))
	roles := text(`#account-roles`)
	step(chromedp.SendKeys(`#token-name`, "browser test"), chromedp.Click(`form[action="/account/tokens"] button`),
		chromedp.WaitVisible(`#new-token`))
	token := text(`#new-token`)
	step(chromedp.Click(`header form button`), chromedp.WaitVisible(`#email`))
	afterLogout, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if roles != "sales, service" {
		t.Errorf("roles on the account page = %q", roles)
	}
	if !strings.HasPrefix(token, "tresor_") {
		t.Fatalf("token shown = %q", token)
	}
	if !strings.HasSuffix(afterLogout, "/login?signed_out=1") {
		t.Errorf("after signing out the browser is at %s", afterLogout)
	}
	// The token the browser showed works for the purposes chosen in the form.
	act, err := a.g.AuthenticateToken(context.Background(), token)
	must(t, err)
	if len(act.Purposes) != 2 {
		t.Fatalf("token purposes = %v", act.Purposes)
	}
}
