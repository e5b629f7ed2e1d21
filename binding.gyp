# node-gyp / prebuildify build of the addon. The sources and flags come from
# native/sources.json, the same list CMakeLists.txt reads; nothing here is a second copy.
{
  "targets": [
    {
      "target_name": "lowbit",
      "sources": [
        "<!@(node -p \"const s = require('./native/sources.json'); s.library.concat(s.binding).join(' ')\")"
      ],
      "conditions": [
        ["target_arch == 'x64'", {
          "sources": ["<!@(node -p \"require('./native/sources.json').x86_64.join(' ')\")"]
        }],
        ["target_arch == 'arm64'", {
          "sources": ["<!@(node -p \"require('./native/sources.json').aarch64.join(' ')\")"]
        }]
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node -p \"require('./native/sources.json').include.join(' ')\")"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc": [
        "-std=c++17",
        "<!@(node -p \"require('./native/sources.json').cflags.join(' ')\")"
      ],
      "xcode_settings": {
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "OTHER_CPLUSPLUSFLAGS": ["<!@(node -p \"require('./native/sources.json').cflags.join(' ')\")"]
      }
    }
  ]
}
