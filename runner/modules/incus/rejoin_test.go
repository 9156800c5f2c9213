package incus_test

import (
	"slices"
	"testing"

	incusmod "github.com/statectl/statectl/runner/modules/incus"
)

// TestParseRaftDump reads the raft_nodes rows of a local database dump
// as GET /internal/sql?database=local returns it (Incus 6.0.4 format).
func TestParseRaftDump(t *testing.T) {
	for _, tc := range []struct {
		name, dump string
		want       []string
	}{
		{"standalone", "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE raft_nodes (\n    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,\n    address TEXT NOT NULL);\nINSERT INTO config VALUES(1,'core.https_address','127.0.1.13:8443');\nCOMMIT;\n", nil},
		{"leader with a stale node", "INSERT INTO raft_nodes VALUES(1,'127.0.1.11:8443',0,'node1');\nINSERT INTO raft_nodes VALUES(2,'127.0.1.12:8443',1,'');\nINSERT INTO raft_nodes VALUES(3,'127.0.1.13:8443',2,'');\n",
			[]string{"1 127.0.1.11:8443 voter", "2 127.0.1.12:8443 stand-by", "3 127.0.1.13:8443 spare"}},
		{"three columns", "INSERT INTO raft_nodes VALUES(4,'[::1]:8443',0);", []string{"4 [::1]:8443 voter"}},
		{"other tables ignored", "INSERT INTO raft_nodes_x VALUES(1,'a',0);\nINSERT INTO config VALUES(1,'raft_nodes','x');", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := incusmod.ParseRaftDump(tc.dump); !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}
