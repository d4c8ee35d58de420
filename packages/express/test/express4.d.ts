// Express 4, installed under an alias for the behaviour suite (its types: those of Express 5, which
// the test app's calls share).
declare module 'express4' {
  import express from 'express';
  export default express;
}
