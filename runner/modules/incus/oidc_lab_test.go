package incus_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/oauth2"

	"github.com/statectl/statectl/runner/incusconn"
	"github.com/statectl/statectl/runner/lab/labtest"
	incusmod "github.com/statectl/statectl/runner/modules/incus"
	"github.com/statectl/statectl/runner/roster"
	"github.com/statectl/statectl/runner/secret"
)

func writeTokens(t *testing.T, file, access, refresh string) {
	t.Helper()
	data, err := json.Marshal(&oidc.Tokens[*oidc.IDTokenClaims]{Token: &oauth2.Token{AccessToken: access, RefreshToken: refresh, TokenType: "Bearer"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func readTokens(t *testing.T, file string) (access, refresh string) {
	t.Helper()
	var tk oidc.Tokens[*oidc.IDTokenClaims]
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &tk); err != nil || tk.Token == nil {
		t.Fatalf("token file: %v", err)
	}
	return tk.AccessToken, tk.RefreshToken
}

// OIDC against a real provider: a token file holding only a refresh token
// (the CI way) works, an expired access token is refreshed, and a token
// for another audience or a revoked refresh token is refused with a clear
// error and nothing written. No token ever appears in what a run shows.
func TestOIDCApply(t *testing.T) {
	p := labtest.StartOIDCProvider(t)
	l := labtest.Start(t, 1)
	n1, _ := l.Member("node1")
	setOIDC := func(audience string) {
		t.Helper()
		c := labtest.Client(t, l, "node1")
		srv, _, err := c.GetServer()
		if err != nil {
			t.Fatal(err)
		}
		srv.Config["oidc.issuer"] = p.Issuer
		srv.Config["oidc.client.id"] = p.ClientID
		srv.Config["oidc.audience"] = audience
		if err := c.UpdateServer(srv.Writable(), ""); err != nil {
			t.Fatalf("failed to configure OIDC: %v", err)
		}
	}
	setOIDC(p.ClientID)
	value := func() string {
		srv, _, err := labtest.Client(t, l, "node1").GetServer()
		if err != nil {
			t.Fatal(err)
		}
		return srv.Config["images.remote_cache_expiry"]
	}

	file := filepath.Join(t.TempDir(), "oidctokens", "n1.json")
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		t.Fatal(err)
	}
	r := &roster.Roster{File: "/test/roster.yaml", Entries: map[string]*roster.Entry{
		"n1": {Name: "n1", URL: n1.URL(), ServerCert: n1.ServerCert, AuthType: "oidc", OIDCTokens: file},
	}}
	e := &env{t: t, lab: l, roster: r}
	var seen []string // every token the test handed out or read back
	secrets := &secret.Set{}
	run := func(v string) result {
		t.Helper()
		m := incusmod.New(r, incusconn.Options{Counter: &e.counter, Secrets: secrets})
		t.Cleanup(func() { _ = m.(interface{ Close() error }).Close() })
		res := e.run(m, mkcall("n1", "settings_present", "oidc-settings", map[string]any{
			"config": map[string]any{"images.remote_cache_expiry": v},
		}))
		a, rf := readTokens(t, file)
		seen = append(seen, a, rf)
		for _, s := range seen {
			if s != "" && strings.Contains(res.text(), s) {
				t.Fatalf("a token appears in the run's output: %s", secrets.String(res.text()))
			}
		}
		return res
	}
	ok := func(res result, v string) {
		t.Helper()
		if res.planErr != nil || res.applErr != nil || res.plan.Fail || res.out == nil || res.out.Failed {
			t.Fatalf("apply through OIDC failed: %s", res.text())
		}
		if got := value(); got != v {
			t.Fatalf("images.remote_cache_expiry = %q, want %q", got, v)
		}
	}
	refused := func(res result, want string, v string) {
		t.Helper()
		err := res.planErr
		if err == nil {
			err = res.applErr
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("want an error with %q, got %s", want, res.text())
		}
		t.Logf("refused: %v", err)
		if got := value(); got != v {
			t.Fatalf("refused run wrote: images.remote_cache_expiry = %q, want %q", got, v)
		}
	}

	t.Run("refresh token only", func(t *testing.T) {
		rt := p.RefreshToken(t)
		seen = append(seen, rt)
		writeTokens(t, file, "", rt)
		ok(run("13"), "13")
		if a, _ := readTokens(t, file); a == "" {
			t.Fatal("the refreshed access token was not saved")
		}
		// The saved access token is used as is: no refresh needed.
		ok(run("14"), "14")
	})
	t.Run("expired access token refreshed", func(t *testing.T) {
		_, rt := readTokens(t, file)
		expired := p.ExpiredAccessToken(t)
		seen = append(seen, expired)
		writeTokens(t, file, expired, rt)
		ok(run("15"), "15")
		if a, _ := readTokens(t, file); a == expired {
			t.Fatal("the expired access token was not replaced")
		}
	})
	t.Run("wrong audience", func(t *testing.T) {
		setOIDC("another-api")
		defer setOIDC(p.ClientID)
		refused(run("16"), "refuses the OIDC access token even after a refresh", "15")
	})
	t.Run("revoked", func(t *testing.T) {
		_, rt := readTokens(t, file)
		p.Revoke(t, rt)
		writeTokens(t, file, p.ExpiredAccessToken(t), rt)
		refused(run("17"), "failed to refresh the OIDC access token", "15")
	})
}
