package incus

import (
	"net"
	"strings"
)

// defaultPort is the Incus https port; seed pillars give bare addresses.
const defaultPort = "8443"

// memberLocalKeys are server config keys stored per member (set with
// UseTarget); every other key is cluster-wide.
var memberLocalKeys = map[string]bool{
	"core.https_address":           true,
	"cluster.https_address":        true,
	"core.bgp_address":             true,
	"core.bgp_routerid":            true,
	"core.debug_address":           true,
	"core.dns_address":             true,
	"core.metrics_address":         true,
	"core.storage_buckets_address": true,
	"core.syslog_socket":           true,
	"network.ovs.connection":       true,
	"storage.backups_volume":       true,
	"storage.images_volume":        true,
}

// addressKeys hold host:port values compared with the default port
// filled in.
var addressKeys = map[string]bool{
	"core.https_address":    true,
	"cluster.https_address": true,
}

// obsoleteKeys are keys the seed pillars still carry that Incus does not
// know. They are skipped with a comment instead of failing the run, so the
// seed pillars work unchanged; the comment tells the user what replaced them.
var obsoleteKeys = map[string]string{
	"core.trust_password": "Incus has no trust password; members join with single-use tokens minted by cluster_member_present",
}

// configDefaults are the values Incus treats as "unset": a key set to its
// default vanishes from GET /1.0, so absent and default compare equal.
// Values from the daemon's config schema (internal/server/cluster/config).
var configDefaults = map[string]string{
	"acme.agree_tos":                    "false",
	"acme.ca_url":                       "https://acme-v02.api.letsencrypt.org/directory",
	"acme.challenge":                    "HTTP-01",
	"acme.http.port":                    ":80",
	"backups.compression_algorithm":     "gzip",
	"cluster.healing_threshold":         "0",
	"cluster.images_minimal_replica":    "3",
	"cluster.join_token_expiry":         "3H",
	"cluster.max_standby":               "2",
	"cluster.max_voters":                "3",
	"cluster.offline_threshold":         "20",
	"cluster.rebalance.batch":           "1",
	"cluster.rebalance.cooldown":        "6H",
	"cluster.rebalance.interval":        "0",
	"cluster.rebalance.threshold":       "20",
	"core.bgp_asn":                      "0",
	"core.https_allowed_credentials":    "false",
	"core.metrics_authentication":       "true",
	"core.shutdown_timeout":             "5",
	"core.trust_ca_certificates":        "false",
	"images.auto_update_cached":         "true",
	"images.auto_update_interval":       "6",
	"images.compression_algorithm":      "gzip",
	"images.remote_cache_expiry":        "10",
	"loki.loglevel":                     "info",
	"loki.types":                        "lifecycle,logging",
	"network.hwaddr_pattern":            "10:66:6a:xx:xx:xx",
	"network.ovn.integration_bridge":    "br-int",
	"network.ovn.northbound_connection": "unix:/run/ovn/ovnnb_db.sock",
	"oidc.scopes":                       "openid, offline_access",
}

// boolKeys are boolean keys; Incus normalises yes/on/1 to "true".
var boolKeys = map[string]bool{
	"acme.agree_tos":                 true,
	"core.https_allowed_credentials": true,
	"core.metrics_authentication":    true,
	"core.trust_ca_certificates":     true,
	"images.auto_update_cached":      true,
}

// normValue returns the value Incus would store for key: booleans
// normalised, addresses with the default port, "" for the default.
func normValue(key, v string) string {
	if boolKeys[key] {
		switch strings.ToLower(v) {
		case "true", "1", "yes", "on":
			v = "true"
		case "false", "0", "no", "off":
			v = "false"
		}
	}
	if addressKeys[key] && v != "" {
		v = normAddress(v)
	}
	if d, ok := configDefaults[key]; ok && v == d {
		return ""
	}
	return v
}

// normAddress turns "192.168.1.102", "https://192.168.1.102" or
// "[::1]" into host:port with the default port.
func normAddress(a string) string {
	a = strings.TrimSpace(a)
	a = strings.TrimPrefix(a, "https://")
	a = strings.TrimSuffix(a, "/")
	if _, _, err := net.SplitHostPort(a); err == nil {
		return a
	}
	host := strings.TrimSuffix(strings.TrimPrefix(a, "["), "]")
	return net.JoinHostPort(host, defaultPort)
}
