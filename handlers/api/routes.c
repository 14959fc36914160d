/* The API's URLs, one row each. The core answers 404/405, authenticates,
 * checks the caller against the customer in the path, parses JSON bodies
 * and has the path's customer and space looked up (api_path_check) before
 * a handler runs (see fcgi/router.h for the flags). */
#include "api/handlers.h"
#include "api/openapi.h"
#include "api/routes.h"
#include "banned.h"

#define C_        "/customers/%d"
#define CUST      R_CUSTOMER
#define CUST_JSON (R_CUSTOMER | R_JSON)
/* Asset reads: answered from the worker's response cache while no write has
 * been committed since (fcgi/respcache.h); their 200s depend on nothing but
 * the database, the URI, the caller and the base URL. */
#define CUST_CACHE (R_CUSTOMER | R_CACHE)
/* The path's space must exist too (404 before the handler). */
#define SPACE       (R_CUSTOMER | R_SPACE)
#define SPACE_JSON  (SPACE | R_JSON)
#define SPACE_CACHE (SPACE | R_CACHE)

const struct route api_routes[] = {
	{M_GET, "/", entry_get, R_ANON, 0},
	{M_GET, "/ping", ping_get, R_ANON, 0},
	{M_GET, "/metrics", metrics_get, R_AUTH_OPT, 0},
	{M_GET, "/openapi.json", openapi_get, R_ANON, 0},

	{M_GET, "/queue", global_queue_get, R_ANON, 0},
	{M_GET, "/storagePolicies", storage_policies_list, R_ANON, 0},
	{M_GET, "/storagePolicies/%s", storage_policy_get, R_ANON, 0},
	{M_GET, "/thumbnailPolicies", thumbnail_policies_list, R_ANON, 0},
	{M_GET, "/thumbnailPolicies/%s", thumbnail_policy_get, R_ANON, 0},
	{M_GET, "/imageOptimisationPolicies", iop_list, R_ANON, 0},
	{M_GET, "/imageOptimisationPolicies/%s", iop_get, R_ANON, 0},
	{M_GET, "/originStrategies", origin_strategy_types_list, R_ANON, 0},
	{M_GET, "/originStrategies/%s", origin_strategy_type_get, R_ANON, 0},

	/* Delivery that the API workers answer (nginx/dlcs.conf sends these
	 * prefixes here): anonymous. The literal /v2/ and /v3/ rows come first,
	 * so that they win over a customer in that place. */
	/* the access flow: "token" is no service's name (auth_services.c) */
	{M_GET, "/auth/v2/probe/%s/%d/%s", auth_probe, R_ANON, 0},
	{M_GET, "/auth/v2/access/%s/token", auth_token, R_ANON, 0},
	{M_GET, "/auth/v2/access/%s/%s", auth_access_get, R_ANON, 0},
	{M_POST, "/auth/v2/access/%s/%s", auth_access_post, R_ANON, 0},
	{M_GET, "/auth/v2/access/%s/%s/logout", auth_logout, R_ANON, 0},

	{M_GET, "/iiif-resource/v2/%s/%s/%*", iiif_resource_v2, R_ANON, 0},
	{M_GET, "/iiif-resource/v3/%s/%s/%*", iiif_resource_v3, R_ANON, 0},
	{M_GET, "/iiif-resource/%s/%s/%*", iiif_resource_get, R_ANON, 0},
	{M_GET, "/iiif-manifest/v2/%s/%d/%s", iiif_manifest_v2, R_ANON, 0},
	{M_GET, "/iiif-manifest/v3/%s/%d/%s", iiif_manifest_v3, R_ANON, 0},
	{M_GET, "/iiif-manifest/%s/%d/%s", iiif_manifest_get, R_ANON, 0},
	{M_GET, "/raw-resource/%s/%s/%*", raw_resource_get, R_ANON, 0},
	{M_GET, "/pdf/%s/%s/%*", pdf_get, R_ANON, 0},
	{M_GET, "/zip/%s/%s/%*", zip_get, R_ANON, 0},
	{M_GET, "/pdf-control/%s/%s/%*", pdf_control_get, R_ANON, 0},
	{M_GET, "/zip-control/%s/%s/%*", zip_control_get, R_ANON, 0},

	{M_GET, "/customers", customers_list, R_ADMIN, 0},
	{M_POST, "/customers", customers_create, R_ADMIN | R_JSON, 0},
	{M_GET, C_, customer_get, CUST, 0},
	{M_PATCH, C_, customer_patch, CUST_JSON, 0},

	{M_GET, C_ "/keys", keys_list, CUST, 0},
	{M_POST, C_ "/keys", keys_create, R_ADMIN | R_CUSTOMER | R_JSON_OPT, 0},
	{M_DELETE, C_ "/keys/%s", key_delete, CUST, 0},

	{M_GET, C_ "/spaces", spaces_list, CUST, 0},
	{M_POST, C_ "/spaces", spaces_create, CUST_JSON, 0},
	{M_GET, C_ "/spaces/%d", space_get, SPACE, 0},
	/* PUT may create the space; PATCH refuses a bad body before its 404 */
	{M_PUT, C_ "/spaces/%d", space_put, CUST_JSON, 0},
	{M_PATCH, C_ "/spaces/%d", space_patch, CUST_JSON, 0},
	{M_DELETE, C_ "/spaces/%d", space_delete, SPACE, 0},
	{M_GET, C_ "/spaces/%d/storage", space_storage_get, SPACE, 0},

	{M_GET, C_ "/spaces/%d/images", space_images_list, SPACE_CACHE, 0},
	{M_PATCH, C_ "/spaces/%d/images", space_images_patch, SPACE_JSON, 0},
	{M_GET, C_ "/spaces/%d/images/%s", asset_get, SPACE_CACHE, 0},
	{M_PUT, C_ "/spaces/%d/images/%s", asset_put, SPACE_JSON, 0},
	{M_PATCH, C_ "/spaces/%d/images/%s", asset_patch, SPACE_JSON, 0},
	{M_DELETE, C_ "/spaces/%d/images/%s", asset_delete, SPACE, 0},
	{M_GET, C_ "/spaces/%d/images/%s/storage", asset_storage_get, SPACE, 0},

	{M_GET, C_ "/allImages", all_images_get, CUST_CACHE, 0},
	{M_POST, C_ "/allImages", all_images_post, CUST_JSON, 0},
	{M_PATCH, C_ "/allImages", all_images_patch, CUST_JSON, 0},

	{M_GET, C_ "/storage", customer_storage_get, CUST, 0},

	{M_GET, C_ "/originStrategies", origin_strategies_list, CUST, 0},
	{M_POST, C_ "/originStrategies", origin_strategies_create, CUST_JSON, 0},
	{M_GET, C_ "/originStrategies/%s", origin_strategy_get, CUST, 0},
	{M_PUT, C_ "/originStrategies/%s", origin_strategy_put, CUST_JSON, 0},
	{M_DELETE, C_ "/originStrategies/%s", origin_strategy_delete, CUST, 0},

	{M_GET, C_ "/customHeaders", custom_headers_list, CUST, 0},
	{M_POST, C_ "/customHeaders", custom_headers_create, CUST_JSON, 0},
	{M_GET, C_ "/customHeaders/%s", custom_header_get, CUST, 0},
	{M_PUT, C_ "/customHeaders/%s", custom_header_put, CUST_JSON, 0},
	{M_DELETE, C_ "/customHeaders/%s", custom_header_delete, CUST, 0},

	{M_GET, C_ "/roles", roles_list, CUST, 0},
	{M_POST, C_ "/roles", roles_create, CUST_JSON, 0},
	{M_GET, C_ "/roles/%s", role_get, CUST, 0},
	{M_PUT, C_ "/roles/%s", role_put, CUST_JSON, 0},
	{M_DELETE, C_ "/roles/%s", role_delete, CUST, 0},
	{M_GET, C_ "/authServices", auth_services_list, CUST, 0},
	{M_POST, C_ "/authServices", auth_services_create, CUST_JSON, 0},
	{M_GET, C_ "/authServices/%s", auth_service_get, CUST, 0},
	{M_PUT, C_ "/authServices/%s", auth_service_put, CUST_JSON, 0},
	{M_PATCH, C_ "/authServices/%s", auth_service_patch, CUST_JSON, 0},
	{M_DELETE, C_ "/authServices/%s", auth_service_delete, CUST, 0},
	{M_GET, C_ "/roleProviders", role_providers_list, CUST, 0},
	{M_POST, C_ "/roleProviders", role_providers_create, CUST_JSON, 0},
	{M_GET, C_ "/roleProviders/%s", role_provider_get, CUST, 0},
	{M_PUT, C_ "/roleProviders/%s", role_provider_put, CUST_JSON, 0},
	{M_DELETE, C_ "/roleProviders/%s", role_provider_delete, CUST, 0},

	{M_GET, C_ "/portalUsers", portal_users_list, CUST, 0},
	{M_POST, C_ "/portalUsers", portal_users_create, CUST_JSON, 0},
	{M_GET, C_ "/portalUsers/%s", portal_user_get, CUST, 0},
	{M_PATCH, C_ "/portalUsers/%s", portal_user_patch, CUST_JSON, 0},
	{M_DELETE, C_ "/portalUsers/%s", portal_user_delete, CUST, 0},

	{M_GET, C_ "/queue", queue_get, CUST, 0},
	{M_POST, C_ "/queue", queue_post, CUST_JSON, 0},
	{M_POST, C_ "/queue/priority", queue_priority_post, CUST_JSON, 0},
	{M_GET, C_ "/queue/images", queue_images, CUST_CACHE, 0},
	{M_GET, C_ "/queue/active", queue_active, CUST, 0},
	{M_GET, C_ "/queue/recent", queue_recent, CUST, 0},
	{M_GET, C_ "/queue/batches", batches_list, CUST, 0},
	{M_GET, C_ "/queue/batches/%d", batch_get, CUST, 0},
	{M_GET, C_ "/queue/batches/%d/images", batch_images, CUST_CACHE, 0},
	{M_GET, C_ "/queue/batches/%d/completedImages", batch_completed_images, CUST_CACHE, 0},
	{M_GET, C_ "/queue/batches/%d/errorImages", batch_error_images, CUST_CACHE, 0},
	{M_POST, C_ "/queue/batches/%d/test", batch_test, R_CUSTOMER | R_JSON_OPT, 0},

	{M_GET, C_ "/namedQueries", named_queries_list, CUST, 0},
	{M_POST, C_ "/namedQueries", named_queries_create, CUST_JSON, 0},
	{M_GET, C_ "/namedQueries/%s", named_query_get, CUST, 0},
	{M_PUT, C_ "/namedQueries/%s", named_query_put, CUST_JSON, 0},
	{M_DELETE, C_ "/namedQueries/%s", named_query_delete, CUST, 0},

	{M_GET, C_ "/deliveryChannelPolicies", dc_policy_collections, CUST, 0},
	{M_GET, C_ "/deliveryChannelPolicies/%s", dc_policies_list, CUST, 0},
	{M_POST, C_ "/deliveryChannelPolicies/%s", dc_policies_create, CUST_JSON, 0},
	{M_GET, C_ "/deliveryChannelPolicies/%s/%s", dc_policy_get, CUST, 0},
	{M_PUT, C_ "/deliveryChannelPolicies/%s/%s", dc_policy_put, CUST_JSON, 0},
	{M_PATCH, C_ "/deliveryChannelPolicies/%s/%s", dc_policy_patch, CUST_JSON, 0},
	{M_DELETE, C_ "/deliveryChannelPolicies/%s/%s", dc_policy_delete, CUST, 0},

	{M_GET, C_ "/defaultDeliveryChannels", ddc_list, CUST, 0},
	{M_POST, C_ "/defaultDeliveryChannels", ddc_create, CUST_JSON, 0},
	{M_GET, C_ "/defaultDeliveryChannels/%s", ddc_get, CUST, 0},
	{M_PUT, C_ "/defaultDeliveryChannels/%s", ddc_put, CUST_JSON, 0},
	{M_DELETE, C_ "/defaultDeliveryChannels/%s", ddc_delete, CUST, 0},
	{M_GET, C_ "/spaces/%d/defaultDeliveryChannels", ddc_list, SPACE, 0},
	{M_POST, C_ "/spaces/%d/defaultDeliveryChannels", ddc_create, SPACE_JSON, 0},
	{M_GET, C_ "/spaces/%d/defaultDeliveryChannels/%s", ddc_get, SPACE, 0},
	{M_PUT, C_ "/spaces/%d/defaultDeliveryChannels/%s", ddc_put, SPACE_JSON, 0},
	{M_DELETE, C_ "/spaces/%d/defaultDeliveryChannels/%s", ddc_delete, SPACE, 0},
};

const size_t api_routes_count = sizeof api_routes / sizeof api_routes[0];
