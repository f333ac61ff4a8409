package api

// DecodeXML and EncodeXML expose the request decoder and the response
// encoder to the external tests (round trip and fuzzing).
var (
	DecodeXML = decodeXML
	EncodeXML = encodeXML
)
