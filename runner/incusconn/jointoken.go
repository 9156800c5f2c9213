package incusconn

import (
	"context"
	"strings"
	"time"

	incus "github.com/lxc/incus/v6/client"
	"github.com/lxc/incus/v6/shared/api"
)

// CreateMemberToken asks the cluster behind s for a join token for member
// name and returns the token's operation (read it with
// ToClusterJoinToken). Right after a bootstrap the cluster answers "There
// are no online cluster members" for about a second: that is retried until
// ctx or ~15 s run out. Errors are Incus's or ctx's, unwrapped, so callers
// word them.
func CreateMemberToken(ctx context.Context, s incus.InstanceServer, name string) (api.Operation, error) {
	deadline := time.Now().Add(15 * time.Second)
	for {
		op, err := s.CreateClusterMember(api.ClusterMembersPost{ServerName: name})
		if err == nil {
			return op.Get(), nil
		}
		if !strings.Contains(err.Error(), "no online cluster members") || time.Now().After(deadline) {
			return api.Operation{}, err
		}
		select {
		case <-ctx.Done():
			return api.Operation{}, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
