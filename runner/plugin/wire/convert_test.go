package wire

import (
	"reflect"
	"testing"

	"github.com/statectl/statectl/runner/module"
)

func TestValueRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"nil", nil, nil},
		{"bool", true, true},
		{"int stays int", 420, 420},
		{"float stays float", 1.0, 1.0},
		{"string", "0644", "0644"},
		{"list", []any{1, "a", nil, []any{false}}, []any{1, "a", nil, []any{false}}},
		{"map", map[string]any{"a": map[string]any{"b": 2.5}}, map[string]any{"a": map[string]any{"b": 2.5}}},
		{"string slice", []string{"x", "y"}, []any{"x", "y"}},
		{"typed int slice via json", []int64{1, 2}, []any{1, 2}},
		{"typed map via json", map[string]int{"n": 3}, map[string]any{"n": 3}},
		{"struct via json", struct {
			Old string `json:"old"`
			New int    `json:"new"`
		}{"a", 1}, map[string]any{"old": "a", "new": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := ToValue(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := FromValue(v); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
		})
	}
	if _, err := ToValue(map[string]any{"ch": make(chan int)}); err == nil {
		t.Error("a channel converted")
	}
}

func TestCallAndSpecsRoundTrip(t *testing.T) {
	call := &module.Call{ID: "id", SLS: "web", Function: "managed", Name: "/etc/motd", Test: true,
		Upstream: []module.Upstream{
			{Target: "node1", ID: "join", Module: "incus", Function: "cluster_member_present", Name: "node1",
				Action: module.Join, Status: module.Pending, Send: map[string]string{"cluster": "lab"}},
			{Target: "node1", ID: "motd", Module: "file", Function: "managed", Name: "/etc/motd", Status: module.Unchanged},
		},
		Args: map[string]any{"name": "/etc/motd", "mode": "0644", "n": 3},
		Target: &module.Target{Name: "node1", Roster: map[string]any{"url": "https://x"},
			Grains: map[string]any{"id": "node1"}, Pillar: map[string]any{"secret": "s"}, StateRoot: "/srv"}}
	wc, err := ToCall(call)
	if err != nil {
		t.Fatal(err)
	}
	if got := FromCall(wc); !reflect.DeepEqual(got, call) {
		t.Fatalf("call: got %#v, want %#v", got, call)
	}
	specs := []module.FuncSpec{{Name: "managed", Doc: "D.", Args: []module.ArgSpec{
		{Name: "mode", Type: module.TypeString, Doc: "M."},
		{Name: "makedirs", Type: module.TypeBool, Default: false, Doc: "Mk."},
		{Name: "password", Type: module.TypeString, Required: true, Secret: true, Doc: "P."},
	}}}
	ws, err := ToFuncSpecs(specs)
	if err != nil {
		t.Fatal(err)
	}
	if got := FromFuncSpecs(ws); !reflect.DeepEqual(got, specs) {
		t.Fatalf("specs: got %#v, want %#v", got, specs)
	}
	plan := &module.Plan{Changes: map[string]any{"diff": "x"}, Comment: "c", Fail: true, Private: []byte(`{"etag":"1"}`),
		Action: module.Create, Deferred: "node1 joins first", Send: map[string]string{"fingerprint": "ab"}}
	wp, err := ToPlan(plan)
	if err != nil {
		t.Fatal(err)
	}
	if got := FromPlan(wp); !reflect.DeepEqual(got, plan) {
		t.Fatalf("plan: got %#v, want %#v", got, plan)
	}
}
