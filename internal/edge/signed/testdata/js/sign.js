// Signs URLs and cookies with the official @aws-sdk/cloudfront-signer for
// internal/edge/signed's tests. Input (stdin): a JSON list of requests
// {kind: "url"|"cookies", url, keyPairId, privateKey, dateLessThan,
// dateGreaterThan?, ipAddress?, policy?, algorithm?}; output (stdout): a JSON list of
// signed URLs or cookie objects, in order.
"use strict";
const { getSignedUrl, getSignedCookies } = require("@aws-sdk/cloudfront-signer");

let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const out = JSON.parse(input).map((r) => {
    const args = { url: r.url, keyPairId: r.keyPairId, privateKey: r.privateKey };
    if (r.algorithm) args.algorithm = r.algorithm;
    if (r.policy) {
      args.policy = r.policy;
    } else {
      args.dateLessThan = new Date(r.dateLessThan * 1000).toISOString();
      if (r.dateGreaterThan) args.dateGreaterThan = new Date(r.dateGreaterThan * 1000).toISOString();
      if (r.ipAddress) args.ipAddress = r.ipAddress;
    }
    return r.kind === "cookies" ? getSignedCookies(args) : getSignedUrl(args);
  });
  process.stdout.write(JSON.stringify(out));
});
