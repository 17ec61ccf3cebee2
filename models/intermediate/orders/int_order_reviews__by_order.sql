with

order_reviews as (

    select * from {{ ref('stg_olist__order_reviews') }}

),

latest_review_ranked as (

    -- an order can be reviewed more than once: the latest answer is the one that counts
    select
        order_id,
        review_score,
        review_created_at,
        row_number() over (
            partition by order_id
            order by review_created_at desc nulls last, review_answered_at desc nulls last, review_id asc
        ) as row_num
    from order_reviews
    where review_score is not null

),

latest_review as (

    select * from latest_review_ranked
    where row_num = 1

),

by_order as (

    select
        order_id,
        count(*) as review_count,
        avg(review_score) as mean_review_score,
        count(review_comment_message) as review_comment_count
    from order_reviews
    group by order_id

),

final as (

    select
        by_order.*,
        latest_review.review_score,
        latest_review.review_created_at
    from by_order
    left join latest_review
        on by_order.order_id = latest_review.order_id

)

select * from final
