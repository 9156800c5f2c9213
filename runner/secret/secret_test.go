package secret

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestKey(t *testing.T) {
	tests := []struct {
		key  string
		want bool
	}{
		// Incus server keys holding credentials.
		{"core.trust_password", true},
		{"loki.auth.password", true},
		{"openfga.api.token", true},
		{"network.ovn.client_key", true},
		{"storage.linstor.client_key", true},
		{"oidc.client.secret", true},
		{"acme.provider.environment", true},
		// Issue 9 item 13: secret in every view.
		{"db_pass", true},
		{"api_key", true},
		{"clusterPassword", true},
		{"user.apikey", true},
		{"APIKey", true},
		{"cluster_password", true},
		{"cluster_token", true},
		{"Join-Token", true},
		{"ldap:pwd", true},
		{"private_key", true},
		{"aws.credentials", true},
		{"passwords", true},
		{"client_key", true}, // as network.ovn.client_key: one rule for pillar and config
		// Not secrets.
		{"key", false}, // names a key: incus.settings_present's argument
		{"Key", false},
		{"cluster.join_token_expiry", false},
		{"oidc.token_expiration", false},
		{"token_file", false},
		{"client_key_path", false},
		{"core.https_address", false},
		{"cluster.max_voters", false},
		{"user.keyboard", false},
		{"images.auto_update_interval", false},
		{"server_cert", false},
		{"bypass", false},
		{"passthrough", false},
		{"monkey", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := Key(tt.key); got != tt.want {
			t.Errorf("Key(%q) = %v, want %v (words %q)", tt.key, got, tt.want, Words(tt.key))
		}
	}
}

func TestWords(t *testing.T) {
	tests := map[string][]string{
		"clusterPassword":           {"cluster", "password"},
		"APIKey":                    {"api", "key"},
		"user.apikey":               {"user", "apikey"},
		"core.trust_password":       {"core", "trust", "password"},
		"a-b:c d":                   {"a", "b", "c", "d"},
		"HTTPSProxy2Key":            {"https", "proxy2", "key"},
		"__x__":                     {"x"},
		"cluster.join_token_expiry": {"cluster", "join", "token", "expiry"},
	}
	for in, want := range tests {
		if got := Words(in); !reflect.DeepEqual(got, want) {
			t.Errorf("Words(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMaskTree(t *testing.T) {
	in := map[string]any{
		"incus": map[string]any{
			"cluster_members": map[string]any{
				"node2": map[string]any{"address": "10.0.0.2", "cluster_password": "hunter2"},
			},
			"config": map[string]any{
				"core.trust_password":       "s3cret",
				"cluster.join_token_expiry": "3H",
				"core.https_address":        "[::]:8443",
				"user.apikey":               42,
			},
			"settings":    []any{map[string]any{"key": "loki.auth.password", "value": "lokipw"}, map[string]any{"key": "core.https_address", "value": ":8443"}},
			"tokens":      []any{map[string]any{"join_token": "abc"}},
			"db_pass":     "pw",
			"no_password": nil,
			"typed":       map[string]string{"clusterPassword": "typedpw", "name": "n"},
		},
	}
	got := MaskTree(in)
	want := map[string]any{
		"incus": map[string]any{
			"cluster_members": map[string]any{
				"node2": map[string]any{"address": "10.0.0.2", "cluster_password": Mask},
			},
			"config": map[string]any{
				"core.trust_password":       Mask,
				"cluster.join_token_expiry": "3H",
				"core.https_address":        "[::]:8443",
				"user.apikey":               Mask,
			},
			"settings":    []any{map[string]any{"key": "loki.auth.password", "value": Mask}, map[string]any{"key": "core.https_address", "value": ":8443"}},
			"tokens":      Mask,
			"db_pass":     Mask,
			"no_password": nil,
			"typed":       map[string]any{"clusterPassword": Mask, "name": "n"},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("MaskTree:\n got %#v\nwant %#v", got, want)
	}
	if in["incus"].(map[string]any)["db_pass"] != "pw" {
		t.Error("MaskTree modified its input")
	}
}

func TestSet(t *testing.T) {
	type step struct {
		leaves, underKeys any
		add               []string
	}
	tests := []struct {
		name  string
		setup step
		in    any
		want  any
	}{
		{name: "empty set keeps everything", in: "hunter22 1234", want: "hunter22 1234"},
		{name: "string", setup: step{add: []string{"hunter22"}}, in: "pw=hunter22!", want: "pw=******!"},
		{name: "short values are not masked by value", setup: step{add: []string{"abc", "on"}}, in: "abc on", want: "abc on"},
		{name: "longest first", setup: step{add: []string{"hunter22", "tok-hunter22"}}, in: "tok-hunter22 hunter22", want: "****** ******"},
		{name: "map keys and lists", setup: step{add: []string{"hunter22"}},
			in:   map[string]any{"note hunter22": []any{"set to hunter22", nil, true}, "s": []string{"hunter22"}},
			want: map[string]any{"note ******": []any{"set to ******", nil, true}, "s": []string{"******"}}},
		{name: "numbers by exact match only", setup: step{leaves: []any{4242}},
			in: []any{4242, 42424, "pin 4242"}, want: []any{Mask, 42424, "pin ******"}},
		{name: "structs through JSON", setup: step{add: []string{"hunter22"}},
			in: struct{ K string }{"x hunter22"}, want: map[string]any{"K": "x ******"}},
		{name: "leaves of any shape", setup: step{leaves: map[string]any{"a": []any{"alpha-1", true, nil}, "b": "bravo-2"}},
			in: "alpha-1 bravo-2 true", want: "****** ****** true"},
		{name: "under secret keys only", setup: step{underKeys: map[string]any{
			"address": "10.0.0.1", "db_pass": "dbpw1234", "nested": map[string]any{"clusterPassword": "cpw12345", "api": map[string]any{"token": 987654}},
			"cfg": []any{map[string]any{"key": "core.trust_password", "value": "trust123"}}}},
			in: "10.0.0.1 dbpw1234 cpw12345 987654 trust123", want: "10.0.0.1 ****** ****** ****** ******"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Set{}
			for _, a := range tt.setup.add {
				s.Add(a)
			}
			if tt.setup.leaves != nil {
				s.AddLeaves(tt.setup.leaves)
			}
			if tt.setup.underKeys != nil {
				s.AddUnderKeys(tt.setup.underKeys)
			}
			if got := s.Value(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Value(%#v) = %#v, want %#v", tt.in, got, tt.want)
			}
			if str, ok := tt.in.(string); ok {
				if got := s.String(str); got != tt.want {
					t.Errorf("String(%q) = %q, want %q", str, got, tt.want)
				}
			}
		})
	}
}

func TestNilSet(t *testing.T) {
	var s *Set
	s.Add("hunter22")
	if s.String("hunter22") != "hunter22" || s.Len() != 0 {
		t.Error("nil set masked")
	}
	err := errors.New("hunter22")
	if s.Err(err) != err {
		t.Error("nil set wrapped an error")
	}
	if got := s.MaskTree(map[string]any{"token": "x"}); !reflect.DeepEqual(got, map[string]any{"token": Mask}) {
		t.Errorf("nil set MaskTree = %v", got)
	}
}

type pathErr struct{ path string }

func (e *pathErr) Error() string { return "bad " + e.path }

func TestSetErr(t *testing.T) {
	s := &Set{}
	s.Add("hunter22")
	plain := errors.New("no secret here")
	if s.Err(plain) != plain {
		t.Error("an error without a secret was wrapped")
	}
	inner := &pathErr{path: "/x/hunter22"}
	err := fmt.Errorf("state A: %w: %w", inner, context.Canceled)
	got := s.Err(err)
	if got.Error() != "state A: bad /x/******: context canceled" {
		t.Errorf("Err = %q", got)
	}
	if !errors.Is(got, context.Canceled) {
		t.Error("errors.Is lost context.Canceled")
	}
	var pe *pathErr
	if errors.As(got, &pe) {
		t.Errorf("the unmasked inner error is reachable: %v", pe)
	}
	for e := got; e != nil; e = errors.Unwrap(e) {
		if strings.Contains(e.Error(), "hunter22") {
			t.Errorf("chain leaks: %q", e)
		}
	}
	single := s.Err(fmt.Errorf("wrap: %w", fmt.Errorf("pw hunter22: %w", context.DeadlineExceeded)))
	if !errors.Is(single, context.DeadlineExceeded) || strings.Contains(errors.Unwrap(single).Error(), "hunter22") {
		t.Errorf("single chain: %v / %v", single, errors.Unwrap(single))
	}
	if s.Err(nil) != nil {
		t.Error("Err(nil) != nil")
	}
}

// TestSetConcurrent: adds and masks race-free (run with -race).
func TestSetConcurrent(t *testing.T) {
	s := &Set{}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := fmt.Sprintf("secret-%d", i)
			s.Add(v)
			if got := s.String("x " + v); got != "x "+Mask {
				t.Errorf("String = %q", got)
			}
			_ = s.Value(map[string]any{"a": v})
		}()
	}
	wg.Wait()
	if s.Len() != 8 {
		t.Errorf("Len = %d", s.Len())
	}
}
