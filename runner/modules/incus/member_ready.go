package incus

import (
	"context"
	"strings"
	"time"

	incus "github.com/lxc/incus/v6/client"
	"github.com/lxc/incus/v6/shared/api"
)

// notReady is Incus's answer to an evacuate or restore sent to a member
// that was just restarted and has not yet connected its event listeners
// to the other members (cluster.EventListenerWait): it passes in seconds.
const notReady = "Server isn't ready yet"

// readyPoll is the time between two tries while the member is not ready.
var readyPoll = time.Second

// postMaint sends an evacuate or restore, trying again while the member
// says it is not ready yet, until ctx ends.
func postMaint(ctx context.Context, s incus.InstanceServer, name string, req api.ClusterMemberStatePost) (incus.Operation, error) {
	for {
		op, err := s.UpdateClusterMemberState(name, req)
		if err == nil || !strings.Contains(err.Error(), notReady) {
			return op, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(readyPoll):
		}
	}
}
