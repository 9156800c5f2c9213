package incus

import (
	"context"
	"strings"
	"time"

	incus "github.com/lxc/incus/v6/client"
	"github.com/lxc/incus/v6/shared/api"
)

// notReady are Incus's answers to an evacuate or restore forwarded to a
// member that was just restarted, while the member forwarding it has no
// event connection with it yet (cluster.EventListenerWait, which gives up
// after 10s): they pass once the event connection is back.
var notReady = []string{"Server isn't ready yet", "Missing event connection with target cluster member"}

func isNotReady(err error) bool {
	for _, m := range notReady {
		if strings.Contains(err.Error(), m) {
			return true
		}
	}
	return false
}

// readyPoll is the time between two tries while the member is not ready.
var readyPoll = time.Second

// postMaint sends an evacuate or restore, trying again while the member
// says it is not ready yet, until ctx ends.
func postMaint(ctx context.Context, s incus.InstanceServer, name string, req api.ClusterMemberStatePost) (incus.Operation, error) {
	for {
		op, err := s.UpdateClusterMemberState(name, req)
		if err == nil || !isNotReady(err) {
			return op, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(readyPoll):
		}
	}
}
