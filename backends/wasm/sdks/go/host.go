//go:build wasip1

package pocket

import (
	"encoding/json"
	"errors"
	"unsafe"
)

//go:wasmimport pocket log
func hostLog(level int32, ptr unsafe.Pointer, size int32)

//go:wasmimport pocket config_get
func hostConfigGet(ptr unsafe.Pointer, size int32) int64

//go:wasmimport pocket kv_get
func hostKvGet(ptr unsafe.Pointer, size int32) int64

//go:wasmimport pocket kv_set
func hostKvSet(keyPtr unsafe.Pointer, keySize int32, valuePtr unsafe.Pointer, valueSize int32) int32

//go:wasmimport pocket http_request
func hostHTTPRequest(ptr unsafe.Pointer, size int32) int64

//go:wasmimport pocket plugin_call
func hostPluginCall(ptr unsafe.Pointer, size int32) int64

// Log levels.
const (
	Debug int32 = 1
	Info  int32 = 2
	Warn  int32 = 3
	Error int32 = 4
)

func pointer(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
}

// Log writes message to Pocket's log at level (needs the `log` grant).
func Log(level int32, message string) {
	b := []byte(message)
	hostLog(level, pointer(b), int32(len(b)))
}

// take copies out and releases a buffer the host handed over (packed); nil
// for "nothing", an error for "failed".
func take(packed int64) ([]byte, error) {
	if packed == -1 {
		return nil, errors.New("the host refused the call (see its log)")
	}
	if packed == 0 {
		return nil, nil
	}
	at, size := uint32(uint64(packed)>>32), uint32(packed)
	b := append([]byte(nil), bytesAt(int32(at), int32(size))...)
	delete(buffers, at)
	return b, nil
}

// Config is the plugin's config value under key (pocket.toml and the
// workflow's `plugins:`), as JSON; nil when absent.
func Config(key string) (json.RawMessage, error) {
	b := []byte(key)
	return take(hostConfigGet(pointer(b), int32(len(b))))
}

// KvGet is the value stored under key in the run's store (needs `kv`); nil when absent.
func KvGet(key string) ([]byte, error) {
	b := []byte(key)
	return take(hostKvGet(pointer(b), int32(len(b))))
}

// KvSet stores value (JSON) under key in the run's store (needs `kv`).
func KvSet(key string, value json.RawMessage) error {
	k := []byte(key)
	switch hostKvSet(pointer(k), int32(len(k)), pointer(value), int32(len(value))) {
	case 0:
		return nil
	case 1:
		return errors.New("kv_set: denied (the plugin needs the `kv` grant)")
	case 3:
		return errors.New("kv_set: no store outside a run")
	case 4:
		return errors.New("kv_set: over the plugin's kv limits")
	case 5:
		return errors.New("kv_set: over the plugin's kv_per_second rate limit")
	default:
		return errors.New("kv_set: invalid argument")
	}
}

// HTTPRequest is a request for HTTP (needs an `http:<host>` grant).
type HTTPRequest struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
}

// HTTPResponse is what came back.
type HTTPResponse struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

// HTTP sends request through the host, under the plugin's grants and limits.
func HTTP(request HTTPRequest) (*HTTPResponse, error) {
	body, err := json.Marshal(request)
	if err != nil {
		return nil, err
	}
	answer, err := take(hostHTTPRequest(pointer(body), int32(len(body))))
	if err != nil {
		return nil, err
	}
	var parsed struct {
		HTTPResponse
		Error string `json:"error"`
	}
	if err := json.Unmarshal(answer, &parsed); err != nil {
		return nil, err
	}
	if parsed.Error != "" {
		return nil, errors.New(parsed.Error)
	}
	return &parsed.HTTPResponse, nil
}

// CallNode runs the node type target (`plugin/type`, needs a matching
// `plugin_call:` grant) on input with config; its output.
func CallNode(target string, input, config any) (json.RawMessage, error) {
	body, err := json.Marshal(map[string]any{"type": target, "input": input, "config": config})
	if err != nil {
		return nil, err
	}
	answer, err := take(hostPluginCall(pointer(body), int32(len(body))))
	if err != nil {
		return nil, err
	}
	var parsed struct {
		Output json.RawMessage `json:"output"`
		Error  string          `json:"error"`
	}
	if err := json.Unmarshal(answer, &parsed); err != nil {
		return nil, err
	}
	if parsed.Error != "" {
		return nil, errors.New(parsed.Error)
	}
	return parsed.Output, nil
}
