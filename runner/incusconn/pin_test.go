package incusconn_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/statectl/statectl/runner/incusconn"
	"github.com/statectl/statectl/runner/roster"
)

// testCA is trusted as a system CA for the whole test binary (through
// SSL_CERT_FILE, read once by crypto/x509 when the system pool is first
// loaded, hence TestMain): the pin test needs a CA-signed certificate that
// the system trust would accept.
var testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "statectl-ca")
	if err != nil {
		panic(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "statectl test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	testCA.cert, _ = x509.ParseCertificate(der)
	testCA.key = key
	file := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		panic(err)
	}
	os.Setenv("SSL_CERT_FILE", file)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// leafCert makes a certificate for dnsName, self-signed or signed by the
// test CA, and returns it with its PEM.
func leafCert(t *testing.T, dnsName string, byCA bool) (tls.Certificate, string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: dnsName},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{dnsName}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	parent, signer := tmpl, any(key)
	if byCA {
		parent, signer = testCA.cert, testCA.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// fakeIncus serves GET /1.0 as a trusting incusd would, presenting cert,
// and counts the requests it receives.
func fakeIncus(t *testing.T, cert tls.Certificate) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"type":"sync","status":"Success","status_code":200,"metadata":{"auth":"trusted","api_extensions":[],"environment":{"server_name":"evil"}}}`))
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, &n
}

// TestPinIsExact: the roster pins a certificate naming "pinned.example". A
// server on another address presents a different certificate for that
// name, signed by a CA the system trusts. Before the fix the library
// trusted the system CAs plus the pin and verified against the pin's DNS
// name, so the connection succeeded and the server received GET /1.0 (and
// would have received the PUTs that follow, secret config included). Now the
// handshake fails and the server receives nothing.
func TestPinIsExact(t *testing.T) {
	dir := t.TempDir()
	_, pinPEM := leafCert(t, "pinned.example", false)
	pinFile := filepath.Join(dir, "server.crt")
	if err := os.WriteFile(pinFile, []byte(pinPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	evil, _ := leafCert(t, "pinned.example", true)
	srv, got := fakeIncus(t, evil)

	// The CA really is trusted: without a pin the impostor is accepted
	// when asked for the name its certificate carries.
	pool, err := x509.SystemCertPool()
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(evil.Certificate[0])
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "pinned.example"}); err != nil {
		t.Fatalf("test CA not trusted by the system pool: %v", err)
	}

	r := entries(map[string]*roster.Entry{"n": {URL: srv.URL, ServerCert: pinFile}})
	_, err = incusconn.Connect(context.Background(), r, "n", opts(nil))
	if err == nil {
		t.Fatal("connected to a server whose certificate is not the pinned one")
	}
	if !strings.Contains(err.Error(), "not the pinned server_cert "+pinFile) {
		t.Errorf("err = %v", err)
	}
	if n := got.Load(); n != 0 {
		t.Errorf("the impostor received %d requests", n)
	}

	// The pinned certificate itself is accepted on any address (the test
	// server is 127.0.0.1, the certificate names pinned.example).
	good, goodPEM := leafCert(t, "pinned.example", false)
	if err := os.WriteFile(pinFile, []byte(goodPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	srv2, got2 := fakeIncus(t, good)
	r2 := entries(map[string]*roster.Entry{"n": {URL: srv2.URL, ServerCert: pinFile}})
	c, err := incusconn.Connect(context.Background(), r2, "n", opts(nil))
	if err != nil {
		t.Fatalf("pinned server refused: %v", err)
	}
	c.Close()
	if got2.Load() != 1 {
		t.Errorf("pinned server received %d requests, want 1", got2.Load())
	}
}
