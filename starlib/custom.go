package starlib

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"reflect"
	"sort"
	"strings"
	"sync"

	"go.starlark.net/starlark"
)

// callSteps bounds one call of a script function after interpretation (a
// custom expectation, a hook), so a runaway loop cannot hang the run.
const callSteps = 10_000_000

// customs records the functions passed to expect(), by a unique key.
type customs struct {
	mu    sync.Mutex
	funcs map[string]*starlark.Function
}

// add registers f and returns its key: its name, or name@file:line when a
// different function (a lambda, or a homonym in a loaded module) already
// uses that name.
func (c *customs) add(f *starlark.Function) (string, error) {
	key := f.Name()
	if old, ok := c.funcs[key]; ok && old != f {
		pos := f.Position()
		key = fmt.Sprintf("%s@%s:%d", f.Name(), path.Base(pos.Filename()), pos.Line)
		if old, ok := c.funcs[key]; ok && old != f {
			return "", fmt.Errorf("two functions named %s at %s; rename one", f.Name(), pos)
		}
	}
	c.funcs[key] = f
	return key, nil
}

// Custom evaluates a custom expectation after the run: funcName is the
// expectation's plan.CustomParams.Func and snapshot is JSON-like data (maps
// with string keys, slices, strings, numbers, bools, nil), handed to the
// function as frozen Starlark values. ok and msg are the function's verdict
// (fail(msg) counts as a failed expectation with that message); err means
// the function itself is broken (a type error, a bad return value, the step
// limit, cancellation).
type Custom func(ctx context.Context, funcName string, snapshot map[string]any) (ok bool, msg string, err error)

// evaluate implements Custom. Each call runs on a fresh thread without the
// interpretation state, so scenario builtins fail and there is no I/O.
func (c *customs) evaluate(ctx context.Context, funcName string, snapshot map[string]any) (bool, string, error) {
	c.mu.Lock()
	f, ok := c.funcs[funcName]
	c.mu.Unlock()
	if !ok {
		return false, "", fmt.Errorf("no custom expectation function %q", funcName)
	}
	snap, err := ToStarlark(snapshot)
	if err != nil {
		return false, "", fmt.Errorf("snapshot: %w", err)
	}
	snap.Freeze()
	thread := &starlark.Thread{Name: "expect " + funcName, Print: func(*starlark.Thread, string) {}}
	thread.SetMaxExecutionSteps(callSteps)
	stop := context.AfterFunc(ctx, func() { thread.Cancel(ctx.Err().Error()) })
	defer stop()
	v, err := starlark.Call(thread, f, starlark.Tuple{snap}, nil)
	if err != nil {
		var ee *starlark.EvalError
		if errors.As(err, &ee) && len(ee.CallStack) > 0 && ee.CallStack.At(0).Name == "fail" {
			return false, strings.TrimPrefix(ee.Msg, "fail: "), nil
		}
		return false, "", scriptErr(err) // the engine names the expectation
	}
	switch v := v.(type) {
	case starlark.Bool:
		return bool(v), "", nil
	case starlark.Tuple:
		if len(v) == 2 {
			b, okB := v[0].(starlark.Bool)
			m, okM := starlark.AsString(v[1])
			if okB && okM {
				return bool(b), m, nil
			}
		}
	}
	return false, "", fmt.Errorf("%s: script error: custom expectation %s returned %s; want True, False or (bool, message)",
		f.Position(), f.Name(), v.Type())
}

// ToStarlark converts JSON-like Go data to Starlark values: maps with string
// keys become dicts (keys sorted), slices lists, numbers int or float.
func ToStarlark(x any) (starlark.Value, error) {
	switch x := x.(type) {
	case nil:
		return starlark.None, nil
	case starlark.Value:
		return x, nil
	case bool:
		return starlark.Bool(x), nil
	case string:
		return starlark.String(x), nil
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return starlark.MakeInt64(i), nil
		}
		f, err := x.Float64()
		if err != nil {
			return nil, fmt.Errorf("bad number %q", x)
		}
		return starlark.Float(f), nil
	}
	rv := reflect.ValueOf(x)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return starlark.MakeInt64(rv.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return starlark.MakeUint64(rv.Uint()), nil
	case reflect.Float32, reflect.Float64:
		return starlark.Float(rv.Float()), nil
	case reflect.String:
		return starlark.String(rv.String()), nil
	case reflect.Bool:
		return starlark.Bool(rv.Bool()), nil
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return starlark.NewList(nil), nil
		}
		elems := make([]starlark.Value, rv.Len())
		for i := range elems {
			v, err := ToStarlark(rv.Index(i).Interface())
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			elems[i] = v
		}
		return starlark.NewList(elems), nil
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return nil, fmt.Errorf("map with %s keys; want string keys", rv.Type().Key())
		}
		keys := make([]string, 0, rv.Len())
		for _, k := range rv.MapKeys() {
			keys = append(keys, k.String())
		}
		sort.Strings(keys)
		d := starlark.NewDict(len(keys))
		for _, k := range keys {
			v, err := ToStarlark(rv.MapIndex(reflect.ValueOf(k).Convert(rv.Type().Key())).Interface())
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if err := d.SetKey(starlark.String(k), v); err != nil {
				return nil, err
			}
		}
		return d, nil
	case reflect.Struct:
		// Structs go through their JSON form, so the engine may pass its
		// own snapshot types with json tags.
		b, err := json.Marshal(x)
		if err != nil {
			return nil, err
		}
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		return ToStarlark(v)
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return starlark.None, nil
		}
		return ToStarlark(rv.Elem().Interface())
	}
	return nil, fmt.Errorf("cannot convert %T to Starlark", x)
}
