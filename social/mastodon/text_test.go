package mastodon

import (
	"errors"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"tresor"
)

func TestHTMLText(t *testing.T) {
	for in, want := range map[string]string{
		"":                                "",
		"plain":                           "plain",
		"<p>Hello</p>":                    "Hello",
		"<p>a</p><p>b</p>":                "a\n\nb",
		"<p>a<br>b<br/>c<BR />d</p>":      "a\nb\nc\nd",
		"<p>a<br><br>b</p>":               "a\n\nb",
		"<p>a<br></p><p>b</p>":            "a\n\nb",
		"<br><p>  lead  </p><br>":         "lead",
		"a &amp; b &lt;c&gt; &quot;&#39;": `a & b <c> "'`,
		"&#x1F600; &eacute; &nbsp;x":      "😀 é x",
		"a\n  b\t\tc":                     "a b c",
		"<p>a\n</p>\n<p>\nb</p>":          "a\n\nb",
		`<a href="https://x.example/?a>b">link</a> end`: "link end",
		`<span class="invisible">https://</span><span class="ellipsis">example.com/lo</span><span class="invisible">ng</span>`: "https://example.com/long",
		`<p><span class="h-card"><a href="https://x/@acme" class="u-url mention">@<span>acme</span></a></span> hi</p>`:         "@acme hi",
		"1 < 2 and 3 > 2":                   "1 < 2 and 3 > 2",
		"a <!-- comment --> b":              "a b",
		"<script>alert(1)</script>ok":       "ok",
		"<STYLE>p{}</style>ok":              "ok",
		"<p>unclosed <a href='x":            "unclosed",
		"<ul><li>one</li><li>two</li></ul>": "one\ntwo",
		"&bogus; &amp":                      "&bogus; &",
		"x<":                                "x<",
	} {
		if got := htmlText(in); got != want {
			t.Errorf("htmlText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNormalizeHandle(t *testing.T) {
	for in, want := range map[string]string{
		"@erika@social.example":       "@erika@social.example",
		"Erika@Social.Example":        "@erika@social.example",
		" @erika ":                    "@erika@home.example",
		"erika":                       "@erika@home.example",
		"first.last-x_y@host.example": "@first.last-x_y@host.example",
		"acme@127.0.0.1:8080":         "@acme@127.0.0.1:8080",
		"jürgen@bücher.example":       "@jürgen@bücher.example",
	} {
		got, err := NormalizeHandle(in, "home.example")
		if err != nil || got != want {
			t.Errorf("NormalizeHandle(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "@", "@@x.example", "a b", "a@b@c.example", "a@b c", "a@-", "a@x.example:", "a@x.example:123456",
		"a@x.example/p", "a@.example", "a@x..example", "a\n@b", "<a>@x.example", "a@x.example:8a"} {
		if got, err := NormalizeHandle(in, "home.example"); tresor.ErrorCode(err) != tresor.ECInvalidParameter {
			t.Errorf("NormalizeHandle(%q) = %q, %v; want %s", in, got, err, tresor.ECInvalidParameter)
		}
	}
	if got, err := NormalizeHandle("erika", ""); err == nil {
		t.Errorf("NormalizeHandle without a host = %q", got)
	}
	for in, want := range map[string]string{"": "", "erika": "@erika@home.example", "Bob@Remote.Example": "@bob@remote.example", "@x@y": "@x@y"} {
		if got := handleOf(in, "home.example"); got != want {
			t.Errorf("handleOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheckJSONShape(t *testing.T) {
	ok := []string{
		``, `[]`, `{}`, `[{"a":[1,2,3],"b":{"c":"[[[[,,,,"}}]`, `"x"`, `not json at all`,
		`[` + strings.Repeat(`{"id":"1","s":"a,b"},`, 1000) + `{}]`,
		strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth),
		`{"s":"\"[[[[\\"}`,
	}
	for _, s := range ok {
		if err := checkJSONShape([]byte(s)); err != nil {
			t.Errorf("checkJSONShape(%.40q) = %v", s, err)
		}
	}
	bad := []string{
		strings.Repeat("[", maxJSONDepth+1),
		"[" + strings.Repeat("{},", maxJSONArrayItems) + "{}]",
		`[{"media_attachments":[` + strings.Repeat("1,", maxJSONArrayItems) + `1]}]`,
		`{"in_reply_to_id":{` + strings.Repeat(`"a":1,`, maxJSONValues) + `"b":2}}`,
	}
	for _, s := range bad {
		if err := checkJSONShape([]byte(s)); !errors.Is(err, ErrTooLarge) {
			t.Errorf("checkJSONShape(%.40q…) = %v, want ErrTooLarge", s, err)
		}
	}
}

// TestHostileAnswersBoundMemory: answers built to decode into far more
// memory than their size are refused, and what passes stays small.
func TestHostileAnswersBoundMemory(t *testing.T) {
	f := newFake(t)
	c := f.connector(Options{})
	hostile := map[string]string{
		"many empty objects":  "[" + strings.Repeat("{},", 2_000_000) + "{}]",
		"many attachments":    `[{"id":"1","type":"mention","status":{"id":"2","media_attachments":[` + strings.Repeat("{},", 2_000_000) + `{}]}}]`,
		"big map":             `[{"id":"1","type":"mention","status":{"id":"2","pinned":{` + strings.Repeat(`"k":0,`, 1_000_000) + `"x":1}}}]`,
		"deep reblogs":        strings.Repeat(`[{"id":"1","type":"mention","status":{"reblog":`, 5000),
		"just under the edge": "[" + strings.Repeat("{},", maxJSONArrayItems-1) + "{}]",
	}
	for name, body := range hostile {
		f.intercept = func(w http.ResponseWriter, r *http.Request) bool { w.Write([]byte(body)); return true }
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		posts, _, err := c.Inbox(t.Context(), "")
		runtime.ReadMemStats(&after)
		if err != nil && !isConnectorError(err, "inbox") {
			t.Errorf("%s: %v", name, err)
		}
		if len(posts) > 0 {
			t.Errorf("%s: %d posts", name, len(posts))
		}
		// The body (up to 8 MiB) is held twice: by the transport and the decoder.
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("%s: %d KiB answer, %d KiB allocated, %v", name, len(body)>>10, alloc>>10, err)
		if alloc > 100<<20 {
			t.Errorf("%s: allocated %d MiB", name, alloc>>20)
		}
	}
}
