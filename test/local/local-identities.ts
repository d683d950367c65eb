/** The SPIFFE IDs of the local mesh: the functions and the reference contact-service (DESIGN.md). */
export const FUNCTIONS_SPIFFE_ID = 'spiffe://jia.app/payment-functions';
export const CONTACT_SERVICE_SPIFFE_ID = 'spiffe://jia.app/contact-service';
