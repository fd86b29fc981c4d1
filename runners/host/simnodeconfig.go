package host

import "errors"

// defaultConfigWriter generates reference-node configs.
func defaultConfigWriter(ConfigSpec) ([]string, error) {
	return nil, errors.New("no node config generator available")
}
