// A tiny HTTP service: answers every request with a greeting.
const http = require('http');
const greet = require('./greet');
const port = Number(process.env.PORT || 3000);
http.createServer((req, res) => res.end(greet('runnel') + '\n')).listen(port, () => {
  console.log(`myapp listening on ${port}`);
});
