// bottleneck's Redis-free build, the one @octokit/plugin-throttling uses; its types are the full build's.
declare module 'bottleneck/light.js' {
  import Bottleneck from 'bottleneck';
  export default Bottleneck;
}
