with

source as (

    select * from {{ source('olist', 'order_reviews') }}

),

renamed as (

    -- review_id is not unique in the real export (one survey answer can cover several orders);
    -- the grain is (review_id, order_id). Exact duplicate rows collapse here.
    select distinct
        trim(review_id) as review_id,
        trim(order_id) as order_id,
        review_score,
        nullif(trim(review_comment_title), '') as review_comment_title,
        nullif(trim(review_comment_message), '') as review_comment_message,
        review_creation_date as review_created_at,
        review_answer_timestamp as review_answered_at
    from source

),

final as (

    select * from renamed

)

select * from final
