// Owners of libcurl objects: unique_ptrs with one stateless deleter, as
// libbpf_ptr.h does for libbpf's, so a holder moves with a defaulted move
// and nothing leaks on an early return or a throw.
#pragma once

#include <curl/curl.h>

#include <memory>
#include <type_traits>

namespace lw {

struct CurlDeleter {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

// CURL is `void` to C++, so the easy handle gets its own alias.
using CurlEasyPtr = std::unique_ptr<CURL, CurlDeleter>;
using CurlListPtr = std::unique_ptr<curl_slist, CurlDeleter>;
static_assert(sizeof(CurlEasyPtr) == sizeof(CURL*), "the deleter is stateless");

}  // namespace lw
