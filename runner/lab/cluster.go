package lab

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	incus "github.com/lxc/incus/v6/client"
	"github.com/lxc/incus/v6/shared/api"

	"github.com/statectl/statectl/runner/incusconn"
)

// Cluster forms a cluster imperatively: node1 bootstraps, the others join
// one by one with fresh tokens. It is for tests whose subject is not the
// join itself (failover, member removal, engine runs on a cluster); the
// declarative join is the incus module's job. Afterwards every member
// serves the cluster certificate, DIR/node1/cluster.crt (ClusterCert).
func (l *Lab) Cluster(ctx context.Context) error {
	if len(l.Members) == 0 {
		return fmt.Errorf("failed to form lab cluster: no members")
	}
	boot := l.Members[0]
	bc, err := unixClient(boot.Socket, time.Minute)
	if err != nil {
		return fmt.Errorf("failed to form lab cluster: %s: %w", boot.Name, err)
	}
	op, err := bc.UpdateCluster(api.ClusterPut{Cluster: api.Cluster{ServerName: boot.Name, Enabled: true}}, "")
	if err != nil {
		return fmt.Errorf("failed to bootstrap lab cluster on %s: %w", boot.Name, err)
	}
	if err := op.WaitContext(ctx); err != nil {
		return fmt.Errorf("failed to bootstrap lab cluster on %s: %w%s", boot.Name, err, logTail(boot.Log))
	}
	srv, _, err := bc.GetServer()
	if err != nil {
		return fmt.Errorf("failed to read cluster certificate from %s: %w", boot.Name, err)
	}
	clusterCert := srv.Environment.Certificate
	cluster, _, err := bc.GetCluster()
	if err != nil {
		return fmt.Errorf("failed to read cluster from %s: %w", boot.Name, err)
	}
	for _, m := range l.Members[1:] {
		token, err := joinToken(ctx, bc, m.Name)
		if err != nil {
			return fmt.Errorf("failed to get join token for %s: %w", m.Name, err)
		}
		mc, err := unixClient(m.Socket, time.Minute)
		if err != nil {
			return fmt.Errorf("failed to join %s: %w", m.Name, err)
		}
		op, err := mc.UpdateCluster(api.ClusterPut{
			Cluster:            api.Cluster{ServerName: m.Name, Enabled: true, MemberConfig: cluster.MemberConfig},
			ClusterAddress:     boot.Address,
			ClusterCertificate: clusterCert,
			ServerAddress:      m.Address,
			ClusterToken:       token,
		}, "")
		if err == nil {
			err = op.WaitContext(ctx)
		}
		if err != nil {
			return fmt.Errorf("failed to join %s to the lab cluster: %w%s", m.Name, err, logTail(m.Log))
		}
	}
	l.ClusterCert = filepath.Join(boot.Dir, "cluster.crt")
	return l.save()
}

// joinToken mints a token, retrying the "no online cluster members" window
// right after bootstrap.
func joinToken(ctx context.Context, c incus.InstanceServer, name string) (string, error) {
	o, err := incusconn.CreateMemberToken(ctx, c, name)
	if err != nil {
		return "", err
	}
	tok, err := o.ToClusterJoinToken()
	if err != nil {
		return "", err
	}
	return tok.String(), nil
}
