package slstree

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// Deref follows YAML aliases to the node they name.
func Deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// IsNull reports a missing node or a null scalar.
func IsNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// Scalar returns the text of a non-null scalar node.
func Scalar(n *yaml.Node) (string, bool) {
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		return "", false
	}
	return n.Value, true
}

// KindName names a node's kind for messages ("a list").
func KindName(n *yaml.Node) string {
	switch {
	case IsNull(n):
		return "null"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Kind == yaml.DocumentNode:
		return "a document"
	}
	return "a scalar"
}

// DescribeItem is KindName that counts a mapping's keys.
func DescribeItem(n *yaml.Node) string {
	if n.Kind == yaml.MappingNode {
		return fmt.Sprintf("a mapping with %d keys", len(n.Content)/2)
	}
	return KindName(n)
}
