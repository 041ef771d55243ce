// Reference reader: what a Go MCP server built on encoding/json (the Go MCP SDK before its
// case-sensitive decoding fix, CVE-2026-27896) would dispatch for one HTTP POST body.
//
// Line protocol, for test/differential/readers/reference-readers.ts:
//
//	stdin:  {"body":"<base64>"}               one request per line
//	        {"body":"...","protocolVersion":"2025-06-18"}  optional Mcp-Protocol-Version header
//	stdout: {"accepted":true,"messages":[{"method":"tools/call","tool":"delete_repo"}]}
//	        {"accepted":false,"error":"..."}   the server answers the POST with an HTTP error
//
// "messages" lists, in order, the requests and notifications whose handler the server would
// run; responses posted by a client and messages whose params fail to decode are left out, since
// the server only answers those with an error. Every decode goes through encoding/json on
// purpose: its case-insensitive, simple-folding key match (U+017F to s, U+212A to k) with the
// last matching key winning is the behaviour this reader exists to reproduce.
//
// Standard library only, no go.mod: built with `go build -o OUT reader.go`.
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// envelope has the fields the SDK's JSON-RPC layer decodes every incoming message into. The
// field types matter as much as the names: a "method" that is not a string, or an "error" that
// is not an object, makes the whole decode fail.
type envelope struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      any             `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *wireError      `json:"error,omitempty"`
}

type wireError struct {
	Code    int64           `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// callToolParams is the shape the server decodes tools/call params into before it looks the
// tool up by Name; arguments stay raw until the tool's own handler reads them.
type callToolParams struct {
	Meta      map[string]any  `json:"_meta,omitempty"`
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments,omitempty"`
}

// anyParams stands in for the params struct of every other method: any JSON object decodes
// into it, anything else (array, string, number) does not, as with the SDK's param structs.
type anyParams struct{}

// methodRule is how the server's method table treats a method: whether it must arrive as a
// notification (no id) or a call (an id), and whether params may be missing.
type methodRule struct {
	notification   bool
	paramsOptional bool
}

// serverMethods are the client-to-server methods a server built on the SDK knows. A request
// for any other method makes the whole POST fail before anything runs.
var serverMethods = map[string]methodRule{
	"completion/complete":              {},
	"initialize":                       {},
	"ping":                             {paramsOptional: true},
	"prompts/list":                     {paramsOptional: true},
	"prompts/get":                      {},
	"tools/list":                       {paramsOptional: true},
	"tools/call":                       {},
	"resources/list":                   {paramsOptional: true},
	"resources/templates/list":         {paramsOptional: true},
	"resources/read":                   {},
	"logging/setLevel":                 {},
	"resources/subscribe":              {},
	"resources/unsubscribe":            {},
	"notifications/cancelled":          {notification: true, paramsOptional: true},
	"notifications/initialized":        {notification: true, paramsOptional: true},
	"notifications/roots/list_changed": {notification: true, paramsOptional: true},
	"notifications/progress":           {notification: true},
}

// Without an Mcp-Protocol-Version header the server assumes the oldest streamable HTTP
// revision, which still allowed JSON-RPC batches; from 2025-06-18 on a batch is refused.
const (
	defaultProtocolVersion = "2025-03-26"
	noBatchProtocolVersion = "2025-06-18"
)

type request struct {
	method string
	isCall bool
	params json.RawMessage
}

type outMessage struct {
	Method string  `json:"method"`
	Tool   *string `json:"tool,omitempty"`
}

type verdict struct {
	Accepted bool         `json:"accepted"`
	Messages []outMessage `json:"messages"`
	Error    string       `json:"error,omitempty"`
}

func reject(format string, args ...any) verdict {
	return verdict{Accepted: false, Messages: []outMessage{}, Error: fmt.Sprintf(format, args...)}
}

// decodeMessage classifies one message as the SDK's JSON-RPC layer does: a non-empty method
// makes it a request (a call when the id is valid), otherwise it must be a response with an id.
// A nil request with a nil error is a response.
func decodeMessage(data []byte) (*request, error) {
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, fmt.Errorf("unmarshaling jsonrpc message: %w", err)
	}
	if env.JSONRPC != "2.0" {
		return nil, fmt.Errorf("invalid message version tag %q; expected %q", env.JSONRPC, "2.0")
	}
	// Numbers decode as float64 into an interface; only numbers, strings and null are ids.
	isCall := false
	switch env.ID.(type) {
	case nil:
	case float64, string:
		isCall = true
	default:
		return nil, fmt.Errorf("invalid ID type %T", env.ID)
	}
	if env.Method != "" {
		return &request{method: env.Method, isCall: isCall, params: env.Params}, nil
	}
	if !isCall {
		return nil, errors.New("invalid request")
	}
	return nil, nil
}

// splitBatch tries the body as an array of messages first and falls back to one message, which
// is how the SDK's transports read a POST body or a stdio line.
func splitBatch(body []byte) (reqs []request, isBatch bool, err error) {
	var raws []json.RawMessage
	if json.Unmarshal(body, &raws) == nil {
		// JSON null also lands here, as an empty batch.
		if len(raws) == 0 {
			return nil, true, errors.New("empty batch")
		}
		for _, raw := range raws {
			req, err := decodeMessage(raw)
			if err != nil {
				return nil, true, err
			}
			if req != nil {
				reqs = append(reqs, *req)
			}
		}
		return reqs, true, nil
	}
	req, err := decodeMessage(body)
	if err != nil {
		return nil, false, err
	}
	if req != nil {
		reqs = append(reqs, *req)
	}
	return reqs, false, nil
}

// checkRequest is the check the HTTP handler runs on every request of a POST before it hands
// any of them on, so one bad request fails the whole body.
func checkRequest(req request) (methodRule, error) {
	rule, ok := serverMethods[req.method]
	if !ok {
		return rule, fmt.Errorf("%q unsupported", req.method)
	}
	if rule.notification && req.isCall {
		return rule, fmt.Errorf("unexpected id for %q", req.method)
	}
	if !rule.notification && !req.isCall {
		return rule, fmt.Errorf("missing id for %q", req.method)
	}
	if !rule.paramsOptional && len(req.params) == 0 {
		return rule, errors.New(`missing required "params"`)
	}
	return rule, nil
}

// dispatch reports what the handler would be given, or false when params fail to decode (the
// server answers that request with an error and runs nothing). A JSON null passes the
// presence check above but decodes to a nil pointer, which counts as missing.
func dispatch(req request, rule methodRule) (outMessage, bool) {
	out := outMessage{Method: req.method}
	if req.method == "tools/call" {
		var p *callToolParams
		if req.params != nil {
			if err := json.Unmarshal(req.params, &p); err != nil {
				return out, false
			}
		}
		if p == nil {
			return out, false
		}
		name := p.Name
		out.Tool = &name
		return out, true
	}
	var p *anyParams
	if req.params != nil {
		if err := json.Unmarshal(req.params, &p); err != nil {
			return out, false
		}
	}
	if p == nil && !rule.paramsOptional {
		return out, false
	}
	return out, true
}

func readBody(body []byte, protocolVersion string) verdict {
	if len(body) == 0 {
		return reject("POST requires a non-empty body")
	}
	reqs, isBatch, err := splitBatch(body)
	if err != nil {
		return reject("malformed payload: %v", err)
	}
	if protocolVersion == "" {
		protocolVersion = defaultProtocolVersion
	}
	// The SDK compares version strings lexically; dates in one format order correctly.
	if isBatch && protocolVersion >= noBatchProtocolVersion {
		return reject("JSON-RPC batching is not supported in %s and later", noBatchProtocolVersion)
	}
	rules := make([]methodRule, len(reqs))
	for i, req := range reqs {
		rule, err := checkRequest(req)
		if err != nil {
			return reject("%v", err)
		}
		rules[i] = rule
	}
	messages := []outMessage{}
	for i, req := range reqs {
		if out, ok := dispatch(req, rules[i]); ok {
			messages = append(messages, out)
		}
	}
	return verdict{Accepted: true, Messages: messages}
}

type input struct {
	Body            string `json:"body"`
	ProtocolVersion string `json:"protocolVersion"`
}

func answer(line []byte) verdict {
	var in input
	if err := json.Unmarshal(line, &in); err != nil {
		return reject("reader protocol: bad input line: %v", err)
	}
	body, err := base64.StdEncoding.DecodeString(in.Body)
	if err != nil {
		return reject("reader protocol: bad base64 body: %v", err)
	}
	return readBody(body, in.ProtocolVersion)
}

func main() {
	// bufio.Reader rather than Scanner: a Scanner refuses lines over its buffer size, and
	// test bodies may be large.
	in := bufio.NewReader(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	for {
		line, err := in.ReadBytes('\n')
		if len(line) > 0 {
			if encErr := enc.Encode(answer(line)); encErr != nil {
				fmt.Fprintln(os.Stderr, "write:", encErr)
				os.Exit(1)
			}
			if flushErr := out.Flush(); flushErr != nil {
				fmt.Fprintln(os.Stderr, "write:", flushErr)
				os.Exit(1)
			}
		}
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "read:", err)
			os.Exit(1)
		}
	}
}
