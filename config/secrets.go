package config

import "reflect"

// SecretValues returns the value of every non-empty Secret in c (tokens,
// API keys, passwords), for redacting them from vendor text before it is
// logged, stored or printed.
func (c *Config) SecretValues() []string {
	if c == nil {
		return nil
	}
	var out []string
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				if v.Type().Field(i).IsExported() {
					walk(v.Field(i))
				}
			}
		case reflect.Slice, reflect.Array:
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i))
			}
		case reflect.Map:
			for it := v.MapRange(); it.Next(); {
				walk(it.Value())
			}
		case reflect.String:
			if v.Type() == secretType && v.String() != "" {
				out = append(out, v.String())
			}
		}
	}
	walk(reflect.ValueOf(c).Elem())
	return out
}
