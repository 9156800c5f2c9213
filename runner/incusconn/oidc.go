package incusconn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/oauth2"

	"github.com/statectl/statectl/runner/secret"
)

type oidcTokens = oidc.Tokens[*oidc.IDTokenClaims]

// RefreshTokenEnv names the environment variable that gives an OIDC refresh
// token to every OIDC target (CI and watch: no interactive login).
const RefreshTokenEnv = "STATECTL_OIDC_REFRESH_TOKEN"

// oidcAuth authenticates a connection with OIDC. The Incus client sends
// the Bearer token (ConnectionArgs.AuthType "oidc"), but when Incus refuses
// it the client starts a device-code login: it prints a URL to stdout,
// opens a browser and waits. statectl never does that (watch runs
// unattended, and stdout is the report). This layer sits under the client:
// it sends its own current access token, and on a 401 naming the issuer it
// refreshes with the refresh token and retries once; when that fails it
// returns an error with a hint and the client never sees the 401 that
// would start the login.
type oidcAuth struct {
	next    http.RoundTripper
	inner   *http.Transport
	file    string // token file, incus CLI format; rewritten after a refresh
	secrets *secret.Set
	timeout time.Duration

	mu     sync.Mutex
	tokens *oidc.Tokens[*oidc.IDTokenClaims]
}

// loadOIDCTokens reads the token file (a missing file is an empty token
// set) and applies RefreshTokenEnv.
func loadOIDCTokens(file string, secrets *secret.Set) (*oidc.Tokens[*oidc.IDTokenClaims], error) {
	t := &oidc.Tokens[*oidc.IDTokenClaims]{Token: &oauth2.Token{}}
	if file != "" {
		data, err := os.ReadFile(file)
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return nil, fmt.Errorf("failed to read OIDC tokens: %w", err)
		default:
			if err := json.Unmarshal(data, t); err != nil {
				// The error of json names no value, only the position.
				return nil, fmt.Errorf("failed to parse OIDC tokens %s: %w", file, err)
			}
			if t.Token == nil {
				t.Token = &oauth2.Token{}
			}
		}
	}
	if v := strings.TrimSpace(os.Getenv(RefreshTokenEnv)); v != "" {
		t.RefreshToken = v
	}
	secrets.Add(t.AccessToken)
	secrets.Add(t.RefreshToken)
	secrets.Add(t.IDToken)
	return t, nil
}

func (a *oidcAuth) Transport() *http.Transport { return a.inner }

func (a *oidcAuth) RoundTrip(req *http.Request) (*http.Response, error) {
	a.mu.Lock()
	access := a.tokens.AccessToken
	a.mu.Unlock()
	resp, err := a.next.RoundTrip(withBearer(req, access))
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	issuer := resp.Header.Get("X-Incus-OIDC-issuer")
	clientID := resp.Header.Get("X-Incus-OIDC-clientid")
	if issuer == "" || clientID == "" {
		return resp, nil
	}
	refused := a.secrets.String(incusError(resp))
	resp.Body.Close()
	scopes := resp.Header.Get("X-Incus-OIDC-scopes")
	if err := a.refresh(req.Context(), access, issuer, clientID, scopes); err != nil {
		return nil, err
	}
	if req.Body != nil && req.GetBody == nil {
		return nil, fmt.Errorf("OIDC access token refused (%s) and the request cannot be repeated; re-run", refused)
	}
	retry := req.Clone(req.Context())
	if req.GetBody != nil {
		if retry.Body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	a.mu.Lock()
	access = a.tokens.AccessToken
	a.mu.Unlock()
	resp, err = a.next.RoundTrip(withBearer(retry, access))
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	refused = a.secrets.String(incusError(resp))
	resp.Body.Close()
	return nil, fmt.Errorf("the server refuses the OIDC access token even after a refresh: %s (check the token's audience against oidc.audience, and the issuer %s)", refused, issuer)
}

// refresh gets a new access token unless another request already did
// (the token changed since `used` was sent).
func (a *oidcAuth) refresh(ctx context.Context, used, issuer, clientID, scopes string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.tokens.AccessToken != used && a.tokens.AccessToken != "" {
		return nil
	}
	hint := fmt.Sprintf("log in once with the incus CLI (`incus remote add NAME URL --auth-type oidc`) and point the roster's oidc_tokens at its token file, or give a refresh token in the token file or $%s; statectl never starts an interactive login", RefreshTokenEnv)
	if a.tokens.RefreshToken == "" {
		return fmt.Errorf("OIDC authentication needed and no refresh token available: %s", hint)
	}
	if scopes == "" {
		scopes = "openid,offline_access"
	}
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	hc := &http.Client{Timeout: a.timeout}
	provider, err := rp.NewRelyingPartyOIDC(ctx, issuer, clientID, "", "", strings.Split(scopes, ","), rp.WithHTTPClient(hc))
	if err != nil {
		return fmt.Errorf("failed to reach the OIDC issuer %s: %w", issuer, a.secrets.Err(err))
	}
	t, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, provider, a.tokens.RefreshToken, "", "")
	if err != nil {
		// The provider's message (invalid_grant ...) names no token.
		return fmt.Errorf("failed to refresh the OIDC access token at %s (revoked or expired refresh token?): %w; %s", issuer, a.secrets.Err(err), hint)
	}
	a.secrets.Add(t.AccessToken)
	a.secrets.Add(t.RefreshToken)
	a.secrets.Add(t.IDToken)
	a.tokens.AccessToken, a.tokens.TokenType, a.tokens.Expiry = t.AccessToken, t.TokenType, t.Expiry
	if t.RefreshToken != "" {
		a.tokens.RefreshToken = t.RefreshToken
	}
	if t.IDToken != "" {
		a.tokens.IDToken = t.IDToken
	}
	return a.save()
}

// save rewrites the token file, as the incus CLI does: a provider that
// rotates refresh tokens has invalidated the old one.
func (a *oidcAuth) save() error {
	if a.file == "" {
		return nil
	}
	data, err := json.Marshal(a.tokens)
	if err != nil {
		return fmt.Errorf("failed to encode OIDC tokens: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(a.file), 0o700); err != nil {
		return fmt.Errorf("failed to save OIDC tokens: %w", err)
	}
	tmp := a.file + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("failed to save OIDC tokens: %w", err)
	}
	if err := os.Rename(tmp, a.file); err != nil {
		return fmt.Errorf("failed to save OIDC tokens: %w", err)
	}
	return nil
}

func withBearer(req *http.Request, token string) *http.Request {
	r := req.Clone(req.Context())
	if token == "" {
		r.Header.Del("Authorization")
		// An empty Bearer makes Incus answer 401 with its OIDC settings,
		// which the refresh needs.
		r.Header.Set("Authorization", "Bearer ")
	} else {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	return r
}

// incusError is the error text of an Incus error response.
func incusError(resp *http.Response) string {
	var body struct {
		Error string `json:"error"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 1<<16)).Decode(&body); err != nil || body.Error == "" {
		return resp.Status
	}
	return body.Error
}
