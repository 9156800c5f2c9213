package incusconn

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"

	incus "github.com/lxc/incus/v6/client"
	"github.com/lxc/incus/v6/shared/api"
)

// MemberETag is the ETag Incus gives GET /1.0/cluster/members/NAME: the
// SHA-256 of the JSON encoding of the member's writable part (incusd's
// util.EtagHash of ClusterMemberPut), quoted as the client returns it. It
// lets one member list stand in for a read per member;
// TestMemberETagMatchesIncus checks it on a real daemon.
func MemberETag(m *api.ClusterMember) (string, error) {
	h := sha256.New()
	if err := json.NewEncoder(h).Encode(m.ClusterMemberPut); err != nil {
		return "", fmt.Errorf("failed to hash cluster member %s: %w", m.ServerName, err)
	}
	return fmt.Sprintf("%q", fmt.Sprintf("%x", h.Sum(nil))), nil // quoted, as the header the client returns
}

// ClusterMember returns member name (nil if the cluster does not list it)
// and its ETag. Through a pool connection outside a write bracket it is
// served from the run's one read of the member list, so a highstate of N
// members reads the list once instead of each member; otherwise it reads
// the member. Code that polls a member for a change calls ReadMember.
func ClusterMember(s incus.InstanceServer, name string) (*api.ClusterMember, string, error) {
	if cs, ok := s.(*cachedServer); ok && cs.p.applying.Load() == 0 {
		list, _, err := resGet(cs.p, resKey{cs.scope, "members", "", ""}, func() (*[]api.ClusterMember, string, error) {
			l, err := cs.InstanceServer.GetClusterMembers()
			return &l, "", err
		})
		if err != nil {
			return nil, "", fmt.Errorf("failed to list cluster members: %w", err)
		}
		for i := range *list {
			if m := &(*list)[i]; m.ServerName == name {
				etag, err := MemberETag(m)
				return m, etag, err
			}
		}
		return nil, "", nil
	}
	return ReadMember(s, name)
}

// ReadMember reads member name from the daemon, never from a cache (for
// applies, and for code that waits for a member to change); nil without
// error when the cluster does not list it.
func ReadMember(s incus.InstanceServer, name string) (*api.ClusterMember, string, error) {
	m, etag, err := s.GetClusterMember(name)
	if api.StatusErrorCheck(err, http.StatusNotFound) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("failed to read cluster member %s: %w", name, err)
	}
	return m, etag, nil
}
