package config

import (
	"bytes"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// Show returns the effective configuration (defaults filled in, values
// normalised) as YAML, for `impact config show`. Secrets print as
// "<secret>" (or "" when unset); sources that are not configured are left
// out.
func (c *Config) Show() ([]byte, error) {
	var doc yaml.Node
	if err := doc.Encode(c); err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	pruneNulls(&doc)
	if c.File != "" {
		doc.HeadComment = "effective configuration from " + c.File + " (secrets hidden)"
	} else {
		doc.HeadComment = "effective configuration (secrets hidden)"
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	return buf.Bytes(), nil
}

// pruneNulls drops mapping entries whose value is null (unconfigured
// sources, basic_auth).
func pruneNulls(n *yaml.Node) {
	if n.Kind == yaml.MappingNode {
		kept := n.Content[:0]
		for i := 0; i+1 < len(n.Content); i += 2 {
			if isNull(n.Content[i+1]) {
				continue
			}
			kept = append(kept, n.Content[i], n.Content[i+1])
		}
		n.Content = kept
	}
	for _, c := range n.Content {
		pruneNulls(c)
	}
}
