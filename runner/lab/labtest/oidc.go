package labtest

import (
	"context"
	"crypto/rand"
	"net"
	"net/http"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/crypto"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// OIDCProvider is a real OpenID provider (zitadel/oidc's op package with
// its example in-memory storage) on a free loopback port, for tests that
// authenticate to Incus with OIDC. It has one public client, ClientID,
// whose access tokens are JWTs (Incus verifies them itself) with the client
// ID as audience, and the example's user "id1".
type OIDCProvider struct {
	Issuer   string
	ClientID string
	st       *storage.Storage
}

// jwtStorage makes every client's access tokens JWTs: the example clients
// issue opaque ones, which Incus cannot verify.
type jwtStorage struct{ *storage.Storage }

type jwtClient struct{ op.Client }

func (jwtClient) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }

func (s jwtStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return jwtClient{c}, nil
}

// StartOIDCProvider serves a provider until the test ends.
func StartOIDCProvider(t testing.TB) *OIDCProvider {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("failed to listen for the OIDC provider: %v", err)
	}
	p := &OIDCProvider{Issuer: "http://" + ln.Addr().String(), ClientID: "incus"}
	storage.RegisterClients(storage.NativeClient(p.ClientID))
	p.st = storage.NewStorage(storage.NewUserStore(p.Issuer))
	cfg := &op.Config{CodeMethodS256: true, GrantTypeRefreshToken: true}
	if _, err := rand.Read(cfg.CryptoKey[:]); err != nil {
		t.Fatal(err)
	}
	h, err := op.NewProvider(cfg, jwtStorage{p.st}, op.StaticIssuer(p.Issuer), op.WithAllowInsecure())
	if err != nil {
		t.Fatalf("failed to create the OIDC provider: %v", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return p
}

// RefreshToken returns a new refresh token of user id1 for the client, as
// a login would have produced (scopes openid and offline_access).
func (p *OIDCProvider) RefreshToken(t testing.TB) string {
	t.Helper()
	req := &storage.AuthRequest{ApplicationID: p.ClientID, UserID: "id1", Scopes: []string{oidc.ScopeOpenID, oidc.ScopeOfflineAccess}}
	_, refresh, _, err := p.st.CreateAccessAndRefreshTokens(context.Background(), req, "")
	if err != nil {
		t.Fatalf("failed to mint a refresh token: %v", err)
	}
	return refresh
}

// ExpiredAccessToken is a correctly signed access token of user id1 that
// expired a minute ago.
func (p *OIDCProvider) ExpiredAccessToken(t testing.TB) string {
	t.Helper()
	key, err := p.st.SigningKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: key.SignatureAlgorithm(), Key: &jose.JSONWebKey{Key: key.Key(), KeyID: key.ID()}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	claims := oidc.NewAccessTokenClaims(p.Issuer, "id1", []string{p.ClientID}, time.Now().Add(-time.Minute), "expired", p.ClientID, 2*time.Minute)
	tok, err := crypto.Sign(claims, signer)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Revoke revokes a refresh token (and its access token).
func (p *OIDCProvider) Revoke(t testing.TB, refresh string) {
	t.Helper()
	if err := p.st.RevokeToken(context.Background(), refresh, "id1", p.ClientID); err != nil {
		t.Fatalf("failed to revoke: %v", err)
	}
}
